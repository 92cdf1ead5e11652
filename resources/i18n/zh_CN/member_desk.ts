<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>MemberDeskScreen</name>
    <message>
        <source>Mobile (or its last 4), member no, card no or name — or tap a card</source>
        <translation>手机号（或后4位）、会员号、卡号或姓名——也可直接刷卡</translation>
    </message>
    <message>
        <source>Search (Enter)</source>
        <translation>查询 (Enter)</translation>
    </message>
    <message>
        <source>Mobile</source>
        <translation>手机号</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Member no</source>
        <translation>会员号</translation>
    </message>
    <message>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>积分</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>注册时间</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>邮箱</translation>
    </message>
    <message>
        <source>Cards</source>
        <translation>会员卡</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>卡号</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>介质</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Principal</source>
        <translation>本金</translation>
    </message>
    <message>
        <source>Bonus</source>
        <translation>赠送金</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Register (F5)</source>
        <translation>注册会员 (F5)</translation>
    </message>
    <message>
        <source>Edit (F6)</source>
        <translation>修改资料 (F6)</translation>
    </message>
    <message>
        <source>Top up (F7)</source>
        <translation>充值 (F7)</translation>
    </message>
    <message>
        <source>Report lost (F8)</source>
        <translation>挂失 (F8)</translation>
    </message>
    <message>
        <source>Freeze (F9)</source>
        <translation>冻结 (F9)</translation>
    </message>
    <message>
        <source>Replace card (F10)</source>
        <translation>换卡 (F10)</translation>
    </message>
    <message>
        <source>Cancel card (F11)</source>
        <translation>注销卡 (F11)</translation>
    </message>
    <message>
        <source>Reset PIN (Ctrl+P)</source>
        <translation>重置密码 (Ctrl+P)</translation>
    </message>
    <message>
        <source>Issue card (Ctrl+N)</source>
        <translation>发卡 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Purchases &amp; top-ups (Ctrl+H)</source>
        <translation>消费/充值明细（Ctrl+H）</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在查询…</translation>
    </message>
    <message>
        <source>No member matches “%1”</source>
        <translation>没有找到“%1”的会员</translation>
    </message>
    <message>
        <source>1 member found</source>
        <translation>找到 1 位会员</translation>
    </message>
    <message>
        <source>%1 members found: Up/Down to choose, Enter to open</source>
        <translation>找到 %1 位会员：上下键选择，Enter 打开</translation>
    </message>
    <message>
        <source>Card %1: looking up its member…</source>
        <translation>卡 %1：正在查找会员…</translation>
    </message>
    <message>
        <source>Reading the member…</source>
        <translation>正在读取会员…</translation>
    </message>
    <message>
        <source>No member selected</source>
        <translation>未选择会员</translation>
    </message>
    <message>
        <source>%1 (held until %2)</source>
        <translation>%1（保级至 %2）</translation>
    </message>
    <message>
        <source>%1 · %2 · valid %3 to %4</source>
        <translation>%1 · %2 · 有效期 %3 至 %4</translation>
    </message>
    <message>
        <source>(not usable today)</source>
        <translation>（今日不可用）</translation>
    </message>
    <message>
        <source>%1 · %2 · until %3</source>
        <translation>%1 · %2 · 有效至 %3</translation>
    </message>
    <message>
        <source>Coupons (%1)</source>
        <translation>优惠券 (%1)</translation>
    </message>
    <message>
        <source>Service cards (%1)</source>
        <translation>次卡/期限卡 (%1)</translation>
    </message>
    <message>
        <source>Found (F8)</source>
        <translation>解挂 (F8)</translation>
    </message>
    <message>
        <source>Unfreeze (F9)</source>
        <translation>解冻 (F9)</translation>
    </message>
    <message>
        <source>Member %1 registered: %2.</source>
        <translation>会员 %1 注册成功，会员号 %2。</translation>
    </message>
    <message>
        <source>Card %1 issued.</source>
        <translation>已发卡 %1。</translation>
    </message>
    <message>
        <source>Welcome gift: %1.</source>
        <translation>新人礼：%1。</translation>
    </message>
    <message>
        <source>Profile saved.</source>
        <translation>资料已保存。</translation>
    </message>
    <message>
        <source>Topped up %1 (%2), bonus %3. Card balance now %4: principal %5, bonus %6.</source>
        <translation>充值 %1（%2），赠送 %3。卡内余额 %4：本金 %5，赠送金 %6。</translation>
    </message>
    <message>
        <source>New tier: %1.</source>
        <translation>等级升为：%1。</translation>
    </message>
    <message>
        <source>%1 coupon(s) given.</source>
        <translation>赠送优惠券 %1 张。</translation>
    </message>
    <message>
        <source>Card %1 is active again.</source>
        <translation>卡 %1 已解挂，恢复正常。</translation>
    </message>
    <message>
        <source>Report card lost</source>
        <translation>挂失</translation>
    </message>
    <message>
        <source>Report card %1 of %2 lost?
It stops paying at once; its balance stays safe for a replacement card.</source>
        <translation>确认挂失 %2 的卡 %1？
挂失后立即停止使用，余额保留，可补卡转入新卡。</translation>
    </message>
    <message>
        <source>Report lost (Enter)</source>
        <translation>确认挂失 (Enter)</translation>
    </message>
    <message>
        <source>Reporting the card lost…</source>
        <translation>正在挂失…</translation>
    </message>
    <message>
        <source>Card %1 reported lost: it can no longer pay.</source>
        <translation>卡 %1 已挂失，不能再消费。</translation>
    </message>
    <message>
        <source>Card %1 unfrozen.</source>
        <translation>卡 %1 已解冻。</translation>
    </message>
    <message>
        <source>Card %1 frozen.</source>
        <translation>卡 %1 已冻结。</translation>
    </message>
    <message>
        <source>Changing the card…</source>
        <translation>正在处理…</translation>
    </message>
    <message>
        <source>Card %1 replaced by %2: principal %3 and bonus %4 moved.</source>
        <translation>卡 %1 已换为 %2：本金 %3、赠送金 %4 已转入新卡。</translation>
    </message>
    <message>
        <source>Card %1 cancelled: pay back %2 (fee %3 kept); bonus %4 forfeited.</source>
        <translation>卡 %1 已注销：退还 %2（扣手续费 %3），赠送金 %4 作废。</translation>
    </message>
    <message>
        <source>New PIN set for card %1.</source>
        <translation>卡 %1 的密码已重置。</translation>
    </message>
</context>
</TS>
