<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>SimPanel</name>
    <message>
        <source>Simulator (demo)</source>
        <translation>模拟设备（演示）</translation>
    </message>
    <message>
        <source>Tap a card</source>
        <translation>刷卡</translation>
    </message>
    <message>
        <source>Sign in to list the store&apos;s member cards.</source>
        <translation>登录后显示本店的会员卡。</translation>
    </message>
    <message>
        <source>Scan a barcode</source>
        <translation>扫商品条码</translation>
    </message>
    <message>
        <source>Scan this code (Enter)</source>
        <translation>输入条码，回车扫码</translation>
    </message>
    <message>
        <source>A product barcode or SKU, or a card number: Enter scans it as a barcode</source>
        <translation>商品条码、货号或卡号：回车按条码扫入</translation>
    </message>
    <message>
        <source>Tap as card</source>
        <translation>按卡刷</translation>
    </message>
    <message>
        <source>Tap the typed number as an IC card</source>
        <translation>把输入的号码当作 IC 卡刷卡</translation>
    </message>
    <message>
        <source>Last receipt</source>
        <translation>最近小票</translation>
    </message>
    <message>
        <source>This store has no member cards yet.</source>
        <translation>本店还没有会员卡。</translation>
    </message>
    <message>
        <source>Tap</source>
        <translation>刷卡</translation>
    </message>
    <message>
        <source>Tap %1</source>
        <translation>刷卡 %1</translation>
    </message>
    <message>
        <source>Ctrl+Shift+%1</source>
        <translation>Ctrl+Shift+%1</translation>
    </message>
    <message>
        <source>employee card</source>
        <translation>员工卡</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>有密码</translation>
    </message>
    <message>
        <source>Scan %1 (%2)</source>
        <translation>扫码 %1（%2）</translation>
    </message>
    <message>
        <source>The simulated card reader is not open yet.</source>
        <translation>模拟读卡器尚未就绪。</translation>
    </message>
    <message>
        <source>Sent %1 (%2)</source>
        <translation>已发送 %1（%2）</translation>
    </message>
    <message>
        <source>IC card</source>
        <translation>IC 卡</translation>
    </message>
    <message>
        <source>magnetic stripe</source>
        <translation>磁条卡</translation>
    </message>
    <message>
        <source>barcode</source>
        <translation>条码</translation>
    </message>
    <message>
        <source>QR code</source>
        <translation>二维码</translation>
    </message>
</context>
</TS>
