<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>OrderDiscountDialog</name>
    <message>
        <source>Order discount</source>
        <translation>整单折扣</translation>
    </message>
    <message>
        <source>Type a percentage off the whole sale (10% = 9折) or an amount off (5.00). Leave it empty to take the discount off.</source>
        <translation>输入整单折扣百分比（10% = 9折）或减免金额（5.00）。留空则取消整单折扣。</translation>
    </message>
    <message>
        <source>Discount</source>
        <translation>折扣</translation>
    </message>
</context>
</TS>
