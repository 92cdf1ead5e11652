<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>PriceChangeDialog</name>
    <message>
        <source>Change price</source>
        <translation>改价</translation>
    </message>
    <message>
        <source>%1: the price is %2 per %3. Type the new price per %3.</source>
        <translation>%1：原价每%3 %2。请输入每%3的新价格。</translation>
    </message>
    <message>
        <source>New price (¥)</source>
        <translation>新价格（¥）</translation>
    </message>
</context>
</TS>
