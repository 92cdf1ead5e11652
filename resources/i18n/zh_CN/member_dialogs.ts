<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>EditMemberDialog</name>
    <message>
        <source>Edit member</source>
        <translation>修改会员资料</translation>
    </message>
    <message>
        <source>Save (Enter)</source>
        <translation>保存 (Enter)</translation>
    </message>
    <message>
        <source>Member no %1 · mobile %2</source>
        <translation>会员号 %1 · 手机号 %2</translation>
    </message>
    <message>
        <source>YYYY-MM-DD or YYYYMMDD</source>
        <translation>YYYY-MM-DD 或 YYYYMMDD</translation>
    </message>
    <message>
        <source>Name *</source>
        <translation>姓名 *</translation>
    </message>
    <message>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>邮箱</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
</context>
<context>
    <name>MemberText</name>
    <message>
        <source>male</source>
        <translation>男</translation>
    </message>
    <message>
        <source>female</source>
        <translation>女</translation>
    </message>
    <message>
        <source>other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Give the year as well: YYYY-MM-DD or YYYYMMDD (e.g. 19900517)</source>
        <translation>请连同年份输入：YYYY-MM-DD 或 YYYYMMDD（如 19900517）</translation>
    </message>
    <message>
        <source>Not a date: type YYYY-MM-DD or YYYYMMDD (e.g. 19900517)</source>
        <translation>日期格式不正确：请输入 YYYY-MM-DD 或 YYYYMMDD（如 19900517）</translation>
    </message>
    <message>
        <source>not given</source>
        <translation>未填写</translation>
    </message>
</context>
<context>
    <name>RegisterMemberDialog</name>
    <message>
        <source>Register member</source>
        <translation>注册会员</translation>
    </message>
    <message>
        <source>Register (Enter)</source>
        <translation>注册 (Enter)</translation>
    </message>
    <message>
        <source>11 digits, e.g. 13800138000</source>
        <translation>11 位手机号，如 13800138000</translation>
    </message>
    <message>
        <source>Optional: YYYY-MM-DD or YYYYMMDD</source>
        <translation>选填：YYYY-MM-DD 或 YYYYMMDD</translation>
    </message>
    <message>
        <source>Tap or swipe the new card now (optional)</source>
        <translation>请现在刷新卡（选填）</translation>
    </message>
    <message>
        <source>Mobile *</source>
        <translation>手机号 *</translation>
    </message>
    <message>
        <source>Name *</source>
        <translation>姓名 *</translation>
    </message>
    <message>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>会员卡</translation>
    </message>
    <message>
        <source>PIN (optional, 6 digits)</source>
        <translation>密码（选填，6 位数字）</translation>
    </message>
    <message>
        <source>PIN again</source>
        <translation>确认密码</translation>
    </message>
    <message>
        <source>Registering the member…</source>
        <translation>正在注册会员…</translation>
    </message>
    <message>
        <source>Tap or swipe the card, or type its number</source>
        <translation>请刷卡，或输入卡号</translation>
    </message>
    <message>
        <source>Issuing the card…</source>
        <translation>正在发卡…</translation>
    </message>
    <message>
        <source>Issue card (Enter)</source>
        <translation>发卡 (Enter)</translation>
    </message>
    <message>
        <source>Close without a card</source>
        <translation>暂不发卡，关闭</translation>
    </message>
    <message>
        <source>Member %1 (%2) is registered, but the card was not issued: %3
Tap another card (or correct the number) and press Issue card.</source>
        <translation>会员 %1（%2）已注册成功，但卡未发出：%3
请换一张卡刷卡（或改正卡号），再按“发卡”。</translation>
    </message>
</context>
</TS>
