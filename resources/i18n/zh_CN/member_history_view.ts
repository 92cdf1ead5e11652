<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>MemberHistoryDialog</name>
    <message>
        <source>Purchases and top-ups</source>
        <translation>消费/充值明细</translation>
    </message>
    <message>
        <source>Newer</source>
        <translation>较新</translation>
    </message>
    <message>
        <source>Older</source>
        <translation>较早</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭（Esc）</translation>
    </message>
    <message>
        <source>Reading the history…</source>
        <translation>正在读取明细…</translation>
    </message>
    <message>
        <source>%1 (%2): purchases and top-ups</source>
        <translation>%1（%2）的消费/充值明细</translation>
    </message>
</context>
</TS>
