<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ProductSearchDialog</name>
    <message>
        <source>Find a product</source>
        <translation>查找商品</translation>
    </message>
    <message>
        <source>Name, SKU or barcode</source>
        <translation>商品名称、编码或条码</translation>
    </message>
    <message>
        <source>SKU</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>Price</source>
        <translation>售价</translation>
    </message>
    <message>
        <source>Member price</source>
        <translation>会员价</translation>
    </message>
    <message>
        <source>Add to cart (Enter)</source>
        <translation>加入购物车 (回车)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
    <message>
        <source>%1 found</source>
        <translation>找到 %1 个</translation>
    </message>
    <message>
        <source>Nothing found</source>
        <translation>没有找到</translation>
    </message>
</context>
</TS>
