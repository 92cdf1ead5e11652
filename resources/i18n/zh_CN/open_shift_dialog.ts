<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>OpenShiftDialog</name>
    <message>
        <source>Open a shift</source>
        <translation>开班</translation>
    </message>
    <message>
        <source>No shift is open</source>
        <translation>当前没有开班</translation>
    </message>
    <message>
        <source>Count the cash in the drawer and type the float to open a shift.</source>
        <translation>请清点钱箱现金，输入备用金后开班。</translation>
    </message>
    <message>
        <source>Float (yuan)</source>
        <translation>备用金（元）</translation>
    </message>
    <message>
        <source>Float in the drawer (¥)</source>
        <translation>钱箱备用金（¥）</translation>
    </message>
    <message>
        <source>Open shift (Enter)</source>
        <translation>开班 (Enter)</translation>
    </message>
    <message>
        <source>Later (Esc)</source>
        <translation>稍后 (Esc)</translation>
    </message>
    <message>
        <source>Opening the shift…</source>
        <translation>正在开班…</translation>
    </message>
</context>
</TS>
