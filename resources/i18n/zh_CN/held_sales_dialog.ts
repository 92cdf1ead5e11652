<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>HeldSalesDialog</name>
    <message>
        <source>Recall a held sale</source>
        <translation>取单</translation>
    </message>
    <message>
        <source>Held sales</source>
        <translation>挂单列表</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>挂单</translation>
    </message>
    <message>
        <source>Held at</source>
        <translation>挂单时间</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>收银员</translation>
    </message>
    <message>
        <source>Items</source>
        <translation>件数</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>No sales are on hold.</source>
        <translation>没有挂单。</translation>
    </message>
    <message>
        <source>Recall (Enter)</source>
        <translation>取单 (回车)</translation>
    </message>
    <message>
        <source>Discard (Delete)</source>
        <translation>删除挂单 (Delete)</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭 (Esc)</translation>
    </message>
    <message>
        <source>Reading held sales…</source>
        <translation>正在读取挂单…</translation>
    </message>
    <message>
        <source>%1 items (%2 lines)</source>
        <translation>%1 件（%2 行）</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <source>Discard held sale</source>
        <translation>删除挂单</translation>
    </message>
    <message>
        <source>Discard %1? Its lines are thrown away.</source>
        <translation>确定删除 %1 吗？其中的商品将被清除。</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Keep it</source>
        <translation>保留</translation>
    </message>
</context>
</TS>
