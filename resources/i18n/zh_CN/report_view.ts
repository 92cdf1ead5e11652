<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ReportView</name>
    <message>
        <source>Report</source>
        <translation>报表</translation>
    </message>
</context>
</TS>
