<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>CheckoutScreen</name>
    <message>
        <source>No shift open — open one under Shift (F3)</source>
        <translation>未开班 —— 请在「交班与报表 (F3)」中开班</translation>
    </message>
    <message>
        <source>Scan or type a code (3*code for three), a mobile or a card — Enter</source>
        <translation>扫码或输入商品编码（3*编码 即 3 件）、手机号或卡号，按回车</translation>
    </message>
    <message>
        <source>The cart is empty: scan the first item.</source>
        <translation>购物车是空的：请扫描第一件商品。</translation>
    </message>
    <message>
        <source>Find member (F5)</source>
        <translation>查会员 (F5)</translation>
    </message>
    <message>
        <source>Hold (F6)</source>
        <translation>挂单 (F6)</translation>
    </message>
    <message>
        <source>Recall (F7)</source>
        <translation>取单 (F7)</translation>
    </message>
    <message>
        <source>Void line (F8)</source>
        <translation>删除商品 (F8)</translation>
    </message>
    <message>
        <source>Returns (F9)</source>
        <translation>退货 (F9)</translation>
    </message>
    <message>
        <source>Reprint (F10)</source>
        <translation>补打小票 (F10)</translation>
    </message>
    <message>
        <source>Clear member (F11)</source>
        <translation>取消会员 (F11)</translation>
    </message>
    <message>
        <source>Change price (Ctrl+P)</source>
        <translation>改价 (Ctrl+P)</translation>
    </message>
    <message>
        <source>Order discount (Ctrl+T)</source>
        <translation>整单折扣 (Ctrl+T)</translation>
    </message>
    <message>
        <source>Round off (Ctrl+R)</source>
        <translation>抹零 (Ctrl+R)</translation>
    </message>
    <message>
        <source>Cancel sale (Esc)</source>
        <translation>整单取消 (Esc)</translation>
    </message>
    <message>
        <source>Finish, hold (F6) or cancel (Esc) the open sale before signing out.</source>
        <translation>当前还有未完成的交易：请先结账、挂单 (F6) 或整单取消 (Esc)，再退出登录。</translation>
    </message>
    <message>
        <source>No member&apos;s mobile ends in %1.</source>
        <translation>没有手机尾号为 %1 的会员。</translation>
    </message>
    <message>
        <source>Coupon %1 added.</source>
        <translation>已加入优惠券 %1。</translation>
    </message>
    <message>
        <source>%1 lines, %2 items</source>
        <translation>%1 行，共 %2 件</translation>
    </message>
    <message>
        <source>Gross %1</source>
        <translation>原价合计 %1</translation>
    </message>
    <message>
        <source>Pay (Enter)</source>
        <translation>结账 (回车)</translation>
    </message>
    <message>
        <source>Discounts %1</source>
        <translation>优惠 %1</translation>
    </message>
    <message>
        <source>No discounts</source>
        <translation>无优惠</translation>
    </message>
    <message>
        <source>Pay %1 (Enter)</source>
        <translation>结账 %1 (回车)</translation>
    </message>
    <message>
        <source>Select a line first (Up/Down).</source>
        <translation>请先用 ↑/↓ 选中一行商品。</translation>
    </message>
    <message>
        <source>A free gift follows its promotion: it cannot be changed.</source>
        <translation>赠品随促销自动增减，不能单独修改。</translation>
    </message>
    <message>
        <source>The cart is being priced: try again in a moment.</source>
        <translation>正在计算价格，请稍后再试。</translation>
    </message>
    <message>
        <source>A weighed line: void it (F8) and weigh again.</source>
        <translation>称重商品：请删除该行（F8）后重新称重。</translation>
    </message>
    <message>
        <source>One left: void the line with F8 or Delete.</source>
        <translation>只剩 1 件：要删除整行请按 F8 或 Delete。</translation>
    </message>
    <message>
        <source>No scale at this till: type the weight.</source>
        <translation>本收银台没有电子秤：请输入重量。</translation>
    </message>
    <message>
        <source>piece</source>
        <translation>件</translation>
    </message>
    <message>
        <source>Change applied.</source>
        <translation>已修改。</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在核对…</translation>
    </message>
    <message>
        <source>Voiding…</source>
        <translation>正在删除…</translation>
    </message>
    <message>
        <source>Line voided.</source>
        <translation>已删除该商品。</translation>
    </message>
    <message>
        <source>Finding the member…</source>
        <translation>正在查找会员…</translation>
    </message>
    <message>
        <source>Type the member&apos;s mobile or its last 4 digits, then Enter</source>
        <translation>输入会员手机号或手机尾号后 4 位，按回车</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to hold.</source>
        <translation>购物车是空的，没有可挂的单。</translation>
    </message>
    <message>
        <source>Holding…</source>
        <translation>正在挂单…</translation>
    </message>
    <message>
        <source>Sale held as %1. F7 recalls it.</source>
        <translation>已挂单：%1。按 F7 取单。</translation>
    </message>
    <message>
        <source>Hold (F6) or finish the open sale before recalling another.</source>
        <translation>请先结账或挂单 (F6) 当前交易，再取单。</translation>
    </message>
    <message>
        <source>Cancel sale</source>
        <translation>整单取消</translation>
    </message>
    <message>
        <source>Cancel this sale? Its %1 lines are removed.</source>
        <translation>确定整单取消吗？%1 行商品将全部清除。</translation>
    </message>
    <message>
        <source>Cancel the sale</source>
        <translation>整单取消</translation>
    </message>
    <message>
        <source>Keep selling</source>
        <translation>继续收银</translation>
    </message>
    <message>
        <source>Sale cancelled.</source>
        <translation>已整单取消。</translation>
    </message>
    <message>
        <source>The cart is empty: scan an item first.</source>
        <translation>购物车是空的：请先扫描商品。</translation>
    </message>
    <message>
        <source>Payment is not available in this version.</source>
        <translation>此版本暂不支持结账。</translation>
    </message>
    <message>
        <source>Returns are not available in this version.</source>
        <translation>此版本暂不支持退货。</translation>
    </message>
    <message>
        <source>Reprinting is not available in this version.</source>
        <translation>此版本暂不支持补打小票。</translation>
    </message>
</context>
</TS>
