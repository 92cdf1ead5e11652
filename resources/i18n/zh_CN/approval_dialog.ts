<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ApprovalDialog</name>
    <message>
        <source>Manager approval</source>
        <translation>店长授权</translation>
    </message>
    <message>
        <source>A manager must approve: %1</source>
        <translation>需要店长授权：%1</translation>
    </message>
    <message>
        <source>Manager&apos;s login</source>
        <translation>店长登录名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>登录名</translation>
    </message>
    <message>
        <source>or tap a manager&apos;s employee card</source>
        <translation>或刷店长的员工卡</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>授权</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
    <message>
        <source>Type the manager&apos;s login</source>
        <translation>请输入店长登录名</translation>
    </message>
    <message>
        <source>Type the manager&apos;s password</source>
        <translation>请输入店长密码</translation>
    </message>
    <message>
        <source>Checking the approval…</source>
        <translation>正在核验授权…</translation>
    </message>
</context>
</TS>
