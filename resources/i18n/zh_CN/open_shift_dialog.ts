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
        <source>Cash counted (yuan)</source>
        <translation>实点现金（元）</translation>
    </message>
    <message>
        <source>Cash counted in the drawer (¥)</source>
        <translation>钱箱实点现金（¥）</translation>
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
        <source>Hand over the shift</source>
        <translation>交接班</translation>
    </message>
    <message>
        <source>Shift %1 of %2 is still open</source>
        <translation>%2 的第 %1 班尚未交班</translation>
    </message>
    <message>
        <source>The drawer is %1&apos;s. Count the cash in it: your count closes their shift (交班) and its Z report prints. Then you open your own shift.</source>
        <translation>钱箱属于 %1。请清点钱箱现金：您的点钞结果将为其交班并打印 Z 报表，然后开您自己的班。</translation>
    </message>
    <message>
        <source>Hand over (Enter)</source>
        <translation>交接班（Enter）</translation>
    </message>
    <message>
        <source>Closing the shift…</source>
        <translation>正在交班…</translation>
    </message>
    <message>
        <source>Shift %1 closed: %2 over (+) / short (-)</source>
        <translation>第 %1 班已交班：长款(+)/短款(-) %2</translation>
    </message>
    <message>
        <source>Now type the float you keep in the drawer to open your own shift.</source>
        <translation>请输入留在钱箱的备用金，开您自己的班。</translation>
    </message>
    <message>
        <source>Opening the shift…</source>
        <translation>正在开班…</translation>
    </message>
</context>
</TS>
