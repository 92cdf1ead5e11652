<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>LockScreen</name>
    <message>
        <source>Till locked</source>
        <translation>收银台已锁定</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <source>or tap your employee card</source>
        <translation>或刷员工卡</translation>
    </message>
    <message>
        <source>Sign out (another operator takes over)</source>
        <translation>退出登录（换人接班）</translation>
    </message>
    <message>
        <source>Locked by %1</source>
        <translation>锁定人：%1</translation>
    </message>
    <message>
        <source>Type your password</source>
        <translation>请输入密码</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在核验…</translation>
    </message>
    <message>
        <source>Only %1 can unlock this till. To take over, sign %1 out first.</source>
        <translation>只有 %1 本人可以解锁。如需换人，请先让 %1 退出登录。</translation>
    </message>
</context>
<context>
    <name>SignInScreen</name>
    <message>
        <source>Sign in to the till</source>
        <translation>收银员登录</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>登录名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>or tap your employee card</source>
        <translation>或刷员工卡</translation>
    </message>
    <message>
        <source>Type your login</source>
        <translation>请输入登录名</translation>
    </message>
    <message>
        <source>Type your password</source>
        <translation>请输入密码</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
</context>
</TS>
