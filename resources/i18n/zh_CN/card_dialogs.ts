<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>CancelCardDialog</name>
    <message>
        <source>Cancel card</source>
        <translation>注销卡</translation>
    </message>
    <message>
        <source>Cancel the card</source>
        <translation>确认注销</translation>
    </message>
    <message>
        <source>%1 · %2
A cancelled card can never be used again.</source>
        <translation>%1 · %2
注销后此卡永久作废。</translation>
    </message>
    <message>
        <source>Choose how it was paid (↑/↓)</source>
        <translation>请选择付款方式（↑/↓）</translation>
    </message>
    <message>
        <source>Principal refunded</source>
        <translation>退还本金</translation>
    </message>
    <message>
        <source>Cancellation fee</source>
        <translation>注销手续费</translation>
    </message>
    <message>
        <source>Bonus forfeited</source>
        <translation>作废赠送金</translation>
    </message>
    <message>
        <source>Refund paid by</source>
        <translation>退款方式</translation>
    </message>
    <message>
        <source>Cancelling the card…</source>
        <translation>正在注销…</translation>
    </message>
</context>
<context>
    <name>CardNumberField</name>
    <message>
        <source>Tap, swipe or type the card number</source>
        <translation>刷卡或输入卡号</translation>
    </message>
</context>
<context>
    <name>CardText</name>
    <message>
        <source>in stock</source>
        <translation>库存</translation>
    </message>
    <message>
        <source>active</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>lost</source>
        <translation>挂失</translation>
    </message>
    <message>
        <source>frozen</source>
        <translation>冻结</translation>
    </message>
    <message>
        <source>replaced</source>
        <translation>已换卡</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已注销</translation>
    </message>
    <message>
        <source>IC card</source>
        <translation>IC卡</translation>
    </message>
    <message>
        <source>magnetic stripe</source>
        <translation>磁条卡</translation>
    </message>
    <message>
        <source>barcode / QR</source>
        <translation>条码/二维码</translation>
    </message>
    <message>
        <source>virtual</source>
        <translation>虚拟卡</translation>
    </message>
    <message>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <source>WeChat Pay</source>
        <translation>微信支付</translation>
    </message>
    <message>
        <source>Alipay</source>
        <translation>支付宝</translation>
    </message>
    <message>
        <source>locked</source>
        <translation>已锁定</translation>
    </message>
    <message>
        <source>set</source>
        <translation>已设置</translation>
    </message>
    <message>
        <source>none</source>
        <translation>未设置</translation>
    </message>
    <message>
        <source>A card PIN is 6 digits</source>
        <translation>密码必须是 6 位数字</translation>
    </message>
    <message>
        <source>The two PINs differ: type them again</source>
        <translation>两次输入的密码不一致，请重新输入</translation>
    </message>
    <message>
        <source>Card %1 — balance %2 (principal %3 + bonus %4)</source>
        <translation>卡 %1 — 余额 %2（本金 %3 + 赠送金 %4）</translation>
    </message>
</context>
<context>
    <name>DeskDialog</name>
    <message>
        <source>Cancel (Esc)</source>
        <translation>取消 (Esc)</translation>
    </message>
</context>
<context>
    <name>IssueCardDialog</name>
    <message>
        <source>Issue card</source>
        <translation>发卡</translation>
    </message>
    <message>
        <source>%1 (%2) · tap or swipe the new card now.</source>
        <translation>%1（%2）· 请现在刷新卡。</translation>
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
        <source>Tap or swipe the card, or type its number</source>
        <translation>请刷卡，或输入卡号</translation>
    </message>
    <message>
        <source>Issuing the card…</source>
        <translation>正在发卡…</translation>
    </message>
</context>
<context>
    <name>ReplaceCardDialog</name>
    <message>
        <source>Replace card</source>
        <translation>换卡</translation>
    </message>
    <message>
        <source>%1 · %2
Everything on it moves to the new card; the old card stops working for good. Tap or swipe the new card now.</source>
        <translation>%1 · %2
余额和密码全部转入新卡，旧卡永久作废。请现在刷新卡。</translation>
    </message>
    <message>
        <source>New card</source>
        <translation>新卡</translation>
    </message>
    <message>
        <source>Tap or swipe the new card, or type its number</source>
        <translation>请刷新卡，或输入新卡号</translation>
    </message>
    <message>
        <source>Replacing the card…</source>
        <translation>正在换卡…</translation>
    </message>
</context>
<context>
    <name>ResetPinDialog</name>
    <message>
        <source>Reset PIN</source>
        <translation>重置密码</translation>
    </message>
    <message>
        <source>%1 · card %2
The member types the new PIN on the keyboard or PIN pad.</source>
        <translation>%1 · 卡 %2
请会员在键盘或密码键盘上输入新密码。</translation>
    </message>
    <message>
        <source>New PIN (6 digits)</source>
        <translation>新密码（6 位数字）</translation>
    </message>
    <message>
        <source>New PIN again</source>
        <translation>确认新密码</translation>
    </message>
    <message>
        <source>Type the new PIN twice</source>
        <translation>请输入两次新密码</translation>
    </message>
    <message>
        <source>Resetting the PIN…</source>
        <translation>正在重置密码…</translation>
    </message>
</context>
<context>
    <name>TopUpDialog</name>
    <message>
        <source>Top up</source>
        <translation>充值</translation>
    </message>
    <message>
        <source>Top up (Enter)</source>
        <translation>充值 (Enter)</translation>
    </message>
    <message>
        <source>Amount in yuan, e.g. 500</source>
        <translation>金额（元），如 500</translation>
    </message>
    <message>
        <source>Choose how it was paid (↑/↓)</source>
        <translation>请选择付款方式（↑/↓）</translation>
    </message>
    <message>
        <source>Payment reference (optional)</source>
        <translation>支付流水号（选填）</translation>
    </message>
    <message>
        <source>Amount (¥)</source>
        <translation>金额（¥）</translation>
    </message>
    <message>
        <source>Paid by</source>
        <translation>支付方式</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>流水号</translation>
    </message>
    <message>
        <source>Choose how the customer paid: cash, bank card, WeChat…</source>
        <translation>请先选择顾客的付款方式：现金、银行卡、微信……</translation>
    </message>
    <message>
        <source>Top up %1, bonus %2: balance after %3</source>
        <translation>充 %1 送 %2：充值后余额 %3</translation>
    </message>
    <message>
        <source>Top up %1, no bonus for this amount: balance after %2</source>
        <translation>充 %1，此金额无赠送：充值后余额 %2</translation>
    </message>
    <message>
        <source>Topping up…</source>
        <translation>正在充值…</translation>
    </message>
</context>
</TS>
