<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ReceiptViewer</name>
    <message>
        <source>No receipt printed yet</source>
        <translation>尚未打印小票</translation>
    </message>
    <message>
        <source>Open full size</source>
        <translation>查看原图</translation>
    </message>
    <message>
        <source>Last receipt</source>
        <translation>最近小票</translation>
    </message>
</context>
</TS>
