<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>MemberPanelView</name>
    <message>
        <source>Tap, swipe or scan a member card — or type a mobile number</source>
        <translation>请刷会员卡、贴卡或扫码 —— 或输入手机号</translation>
    </message>
    <message>
        <source>Service cards</source>
        <translation>次卡 / 时卡 / 套餐</translation>
    </message>
    <message>
        <source>Stored value</source>
        <translation>储值余额</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Mobile %1</source>
        <translation>手机 %1</translation>
    </message>
    <message>
        <source>Member no. %1</source>
        <translation>会员号 %1</translation>
    </message>
    <message>
        <source>No card</source>
        <translation>未绑卡</translation>
    </message>
    <message>
        <source>Card %1 (%2)</source>
        <translation>卡号 %1（%2）</translation>
    </message>
    <message>
        <source>principal %1 + bonus %2</source>
        <translation>本金 %1 + 赠送金 %2</translation>
    </message>
    <message>
        <source>This card cannot be used for this sale. F11 takes the member off it.</source>
        <translation>此卡不能用于本单交易。按 F11 取消会员。</translation>
    </message>
    <message>
        <source>%1 · %2 · until %3</source>
        <translation>%1 · %2 · 有效期至 %3</translation>
    </message>
    <message>
        <source>Coupons: %1 (tick, or Ctrl+number)</source>
        <translation>优惠券：%1 张（勾选或按 Ctrl+序号使用）</translation>
    </message>
    <message>
        <source>No coupons</source>
        <translation>无可用优惠券</translation>
    </message>
</context>
<context>
    <name>MemberPickDialog</name>
    <message>
        <source>Pick the member</source>
        <translation>选择会员</translation>
    </message>
    <message>
        <source>Mobiles ending in %1</source>
        <translation>手机尾号 %1 的会员</translation>
    </message>
    <message>
        <source>Choose (Enter)</source>
        <translation>选择 (回车)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
</context>
</TS>
