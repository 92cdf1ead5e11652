<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>TenderDialog</name>
    <message>
        <source>Payment</source>
        <translation>收款</translation>
    </message>
    <message>
        <source>Member %1, card %2</source>
        <translation>会员 %1，卡号 %2</translation>
    </message>
    <message>
        <source>Member card %1</source>
        <translation>会员卡 %1</translation>
    </message>
    <message>
        <source>Change due</source>
        <translation>找零</translation>
    </message>
    <message>
        <source>Total due</source>
        <translation>应收</translation>
    </message>
    <message>
        <source>Left to pay</source>
        <translation>未付</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <source>Reference (optional)</source>
        <translation>交易单号（可选）</translation>
    </message>
    <message>
        <source>Add (Enter)</source>
        <translation>添加 (Enter)</translation>
    </message>
    <message>
        <source>Tender</source>
        <translation>付款方式</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>交易单号</translation>
    </message>
    <message>
        <source>Remove (%1)</source>
        <translation>删除 (%1)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
    <message>
        <source>Complete sale (Enter)</source>
        <translation>完成收款 (Enter)</translation>
    </message>
    <message>
        <source>Card PIN</source>
        <translation>卡密码</translation>
    </message>
    <message>
        <source>Back (Esc)</source>
        <translation>返回 (Esc)</translation>
    </message>
    <message>
        <source>Pay (Enter)</source>
        <translation>确认支付 (Enter)</translation>
    </message>
    <message>
        <source>Sale complete</source>
        <translation>收款完成</translation>
    </message>
    <message>
        <source>Next sale (Enter)</source>
        <translation>下一单 (Enter)</translation>
    </message>
    <message>
        <source>The card is locked after wrong PINs: stored value, points and service cards cannot pay until a manager resets the PIN. Take another tender.</source>
        <translation>会员卡密码错误次数过多已锁定：储值、积分、次卡都不能付款，需店长重置密码。请改用其他付款方式。</translation>
    </message>
    <message>
        <source>Type what the customer hands over; the change is shown.</source>
        <translation>输入顾客实付现金，系统显示找零。</translation>
    </message>
    <message>
        <source>Stored value on the card: %1</source>
        <translation>卡内储值余额：%1</translation>
    </message>
    <message>
        <source>Points can pay up to %1 of this bill</source>
        <translation>本单积分最多可抵 %1</translation>
    </message>
    <message>
        <source>The member&apos;s service cards pay for the service lines</source>
        <translation>会员的次卡/时卡抵扣对应服务项目</translation>
    </message>
    <message>
        <source>Type or scan the payment reference if there is one (optional).</source>
        <translation>如有交易单号，请输入或扫描（可选）。</translation>
    </message>
    <message>
        <source>%1 can pay at most %2</source>
        <translation>%1 最多可付 %2</translation>
    </message>
    <message>
        <source>%1 handed over</source>
        <translation>实收 %1</translation>
    </message>
    <message>
        <source>Paid in full: press Enter to complete the sale.</source>
        <translation>已付清：按 Enter 完成收款。</translation>
    </message>
    <message>
        <source>Still to pay: %1</source>
        <translation>还差 %1 未付</translation>
    </message>
    <message>
        <source>Recording the sale…</source>
        <translation>正在记录交易…</translation>
    </message>
    <message>
        <source>Receipt %1</source>
        <translation>小票 %1</translation>
    </message>
    <message>
        <source>Cash received %1</source>
        <translation>实收现金 %1</translation>
    </message>
    <message>
        <source>Total paid %1</source>
        <translation>实付 %1</translation>
    </message>
    <message>
        <source>Stored value pays %1. Ask the customer to type the card PIN.</source>
        <translation>储值支付 %1，请顾客输入卡密码。</translation>
    </message>
    <message>
        <source>Type all 6 digits of the PIN</source>
        <translation>请输入完整的 6 位密码</translation>
    </message>
</context>
</TS>
