<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ReceiptOutput</name>
    <message>
        <source>Printing the receipt…</source>
        <translation>正在打印小票…</translation>
    </message>
    <message>
        <source>Receipt %1 printed</source>
        <translation>小票 %1 已打印</translation>
    </message>
    <message>
        <source>Receipt %1: no receipt printer is set up</source>
        <translation>小票 %1：未配置小票打印机</translation>
    </message>
    <message>
        <source>The cash drawer did not open: %1</source>
        <translation>钱箱未打开：%1</translation>
    </message>
    <message>
        <source>The refund is recorded. Receipt not printed: %1. Press F10 to reprint.</source>
        <translation>退货已记录。小票未打印：%1。按 F10 补打。</translation>
    </message>
    <message>
        <source>The sale is recorded. Receipt not printed: %1. Press F10 to reprint.</source>
        <translation>交易已记录。小票未打印：%1。按 F10 补打。</translation>
    </message>
    <message>
        <source>it may have stopped halfway</source>
        <translation>可能未打完</translation>
    </message>
    <message>
        <source>waiting for the printer</source>
        <translation>等待打印机</translation>
    </message>
    <message>
        <source>the printer gave up</source>
        <translation>打印失败</translation>
    </message>
    <message>
        <source>Finding the receipt…</source>
        <translation>正在查找小票…</translation>
    </message>
    <message>
        <source>Receipt %1 reprinted</source>
        <translation>小票 %1 已补打</translation>
    </message>
    <message>
        <source>Receipt %1 not reprinted: %2. Press F10 to try again.</source>
        <translation>小票 %1 补打未成功：%2。按 F10 重试。</translation>
    </message>
</context>
<context>
    <name>ReprintDialog</name>
    <message>
        <source>Reprint a receipt</source>
        <translation>补打小票</translation>
    </message>
    <message>
        <source>Type or scan the receipt number (on the receipt, under its QR code).</source>
        <translation>输入或扫描小票号（在小票二维码下方）。</translation>
    </message>
    <message>
        <source>for example SH01-01-260302-0001</source>
        <translation>例如 SH01-01-260302-0001</translation>
    </message>
    <message>
        <source>Reprint (Enter)</source>
        <translation>补打 (Enter)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
    <message>
        <source>Type or scan a receipt number</source>
        <translation>请输入或扫描小票号</translation>
    </message>
</context>
</TS>
