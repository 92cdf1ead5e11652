<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>WeightDialog</name>
    <message>
        <source>Weight</source>
        <translation>重量</translation>
    </message>
    <message>
        <source>%1 is sold by weight. Type the weight in %2.</source>
        <translation>%1 是称重商品。请输入重量（单位：%2）。</translation>
    </message>
    <message>
        <source>Weight (%1)</source>
        <translation>重量（%1）</translation>
    </message>
</context>
</TS>
