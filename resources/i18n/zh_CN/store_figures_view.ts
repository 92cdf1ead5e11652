<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>LiabilitiesDialog</name>
    <message>
        <source>Liabilities</source>
        <translation>负债</translation>
    </message>
    <message>
        <source>At the end of</source>
        <translation>截至当日营业结束</translation>
    </message>
</context>
<context>
    <name>SalesAnalysisDialog</name>
    <message>
        <source>Sales analysis</source>
        <translation>销售分析</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <source>Top products</source>
        <translation>商品前几名</translation>
    </message>
</context>
<context>
    <name>_FiguresDialog</name>
    <message>
        <source>Show (Enter)</source>
        <translation>查看（Enter）</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Print</source>
        <translation>打印</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭（Esc）</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <translation>正在统计…</translation>
    </message>
    <message>
        <source>Printing…</source>
        <translation>正在打印…</translation>
    </message>
    <message>
        <source>The report is printing.</source>
        <translation>报表正在打印。</translation>
    </message>
</context>
</TS>
