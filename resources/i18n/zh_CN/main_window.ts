<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AlertBar</name>
    <message>
        <source>Dismiss</source>
        <translation>关闭提示</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>pos-app — member-card till</source>
        <translation>pos-app 会员卡收银</translation>
    </message>
    <message>
        <source>Lock (F12)</source>
        <translation>锁屏 (F12)</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <source>Checkout</source>
        <translation>收银</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>会员</translation>
    </message>
    <message>
        <source>Shift &amp;&amp; reports</source>
        <translation>交班与报表</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Till %1</source>
        <translation>收银机 %1</translation>
    </message>
    <message>
        <source>Shift open since %1</source>
        <translation>当班自 %1</translation>
    </message>
    <message>
        <source>No shift open</source>
        <translation>未开班</translation>
    </message>
    <message>
        <source>Printer</source>
        <translation>打印机</translation>
    </message>
    <message>
        <source>Card reader</source>
        <translation>读卡器</translation>
    </message>
</context>
</TS>
