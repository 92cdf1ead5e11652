<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>VoucherOutput</name>
    <message>
        <source>Printing the voucher…</source>
        <translation>正在打印凭证…</translation>
    </message>
    <message>
        <source>%1 %2 printed</source>
        <translation>%1 %2 已打印</translation>
    </message>
    <message>
        <source>%1 %2 not printed: %3. The operation is recorded.</source>
        <translation>%1 %2 未打印：%3。操作已记录。</translation>
    </message>
    <message>
        <source>The cash drawer did not open: %1</source>
        <translation>钱箱未打开：%1</translation>
    </message>
</context>
</TS>
