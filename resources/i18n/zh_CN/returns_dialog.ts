<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ReturnsDialog</name>
    <message>
        <source>Return goods</source>
        <translation>退货</translation>
    </message>
    <message>
        <source>Type or scan the receipt number</source>
        <translation>输入或扫描小票号</translation>
    </message>
    <message>
        <source>Find (Enter)</source>
        <translation>查找 (Enter)</translation>
    </message>
    <message>
        <source>Receipt number</source>
        <translation>小票号</translation>
    </message>
    <message>
        <source>Return</source>
        <translation>退</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>商品</translation>
    </message>
    <message>
        <source>Sold</source>
        <translation>售出</translation>
    </message>
    <message>
        <source>Returnable</source>
        <translation>可退</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>退货数量</translation>
    </message>
    <message>
        <source>Line amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>All lines (Ctrl+A)</source>
        <translation>全选 (Ctrl+A)</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭 (Esc)</translation>
    </message>
    <message>
        <source>Refund the ticked lines (Enter)</source>
        <translation>退选中商品 (Enter)</translation>
    </message>
    <message>
        <source>Refund recorded</source>
        <translation>退货完成</translation>
    </message>
    <message>
        <source>Give back</source>
        <translation>应退</translation>
    </message>
    <message>
        <source>Done (Enter)</source>
        <translation>完成 (Enter)</translation>
    </message>
    <message>
        <source>Type or scan a receipt number</source>
        <translation>请输入或扫描小票号</translation>
    </message>
    <message>
        <source>Finding the receipt…</source>
        <translation>正在查找小票…</translation>
    </message>
    <message>
        <source>Receipt %1, %2, total %3, paid by %4</source>
        <translation>小票 %1，%2，合计 %3，付款：%4</translation>
    </message>
    <message>
        <source>Member %1 (%2)</source>
        <translation>会员 %1（%2）</translation>
    </message>
    <message>
        <source>Already refunded: %1</source>
        <translation>已退金额：%1</translation>
    </message>
    <message>
        <source>Everything on this receipt has been returned already</source>
        <translation>这张小票已全部退完</translation>
    </message>
    <message>
        <source>Tick the lines that come back</source>
        <translation>请勾选要退的商品</translation>
    </message>
    <message>
        <source>Recording the refund…</source>
        <translation>正在记录退货…</translation>
    </message>
    <message>
        <source>Refund %1 for receipt %2</source>
        <translation>退货单 %1（原小票 %2）</translation>
    </message>
</context>
</TS>
