<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>JournalDialog</name>
    <message>
        <source>Sales journal</source>
        <translation>销售流水</translation>
    </message>
    <message>
        <source>Receipt number or its end</source>
        <translation>小票号或其末段</translation>
    </message>
    <message>
        <source>Member, mobile or card number</source>
        <translation>会员号、手机号或卡号</translation>
    </message>
    <message>
        <source>Amount, e.g. 12.50</source>
        <translation>金额，如 12.50</translation>
    </message>
    <message>
        <source>Between</source>
        <translation>日期范围</translation>
    </message>
    <message>
        <source>Search (Enter)</source>
        <translation>查询（Enter）</translation>
    </message>
    <message>
        <source>Receipt</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金额</translation>
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
        <source>Reprint</source>
        <translation>补打</translation>
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
        <source>Searching…</source>
        <translation>正在查询…</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Cashier</source>
        <translation>收银员</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Tenders</source>
        <translation>付款方式</translation>
    </message>
    <message>
        <source>Refund</source>
        <translation>退货</translation>
    </message>
    <message>
        <source>Sale</source>
        <translation>销售</translation>
    </message>
    <message>
        <source>Receipts %1–%2</source>
        <translation>第 %1–%2 张小票</translation>
    </message>
    <message>
        <source>No receipt matches</source>
        <translation>没有符合条件的小票</translation>
    </message>
</context>
</TS>
