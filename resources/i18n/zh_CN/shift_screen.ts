<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AmountDialog</name>
    <message>
        <source>Amount (¥)</source>
        <translation>金额（¥）</translation>
    </message>
    <message>
        <source>For example: change from the bank</source>
        <translation>例如：银行换零钱</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>CashCountDialog</name>
    <message>
        <source>Close shift %1</source>
        <translation>第 %1 班交班</translation>
    </message>
    <message>
        <source>Count the cash in the drawer, float included. Type how many of each note and coin, or the total.</source>
        <translation>清点钱箱现金（含备用金）。按面额输入张数/枚数，或直接输入合计。</translation>
    </message>
    <message>
        <source>By note and coin</source>
        <translation>按面额点钞</translation>
    </message>
    <message>
        <source>Cash counted (¥)</source>
        <translation>实点现金（¥）</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Close the shift</source>
        <translation>确认交班</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Pieces of %1</source>
        <translation>%1 的张数</translation>
    </message>
    <message>
        <source>Counted: %1</source>
        <translation>实点：%1</translation>
    </message>
</context>
<context>
    <name>ConfirmDialog</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>RangeDialog</name>
    <message>
        <source>Report by dates</source>
        <translation>按日期查报表</translation>
    </message>
    <message>
        <source>From</source>
        <translation>开始日期</translation>
    </message>
    <message>
        <source>To</source>
        <translation>结束日期</translation>
    </message>
    <message>
        <source>&amp;Today</source>
        <translation>今天(&amp;T)</translation>
    </message>
    <message>
        <source>This &amp;month</source>
        <translation>本月(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Last month</source>
        <translation>上月(&amp;L)</translation>
    </message>
    <message>
        <source>This &amp;year</source>
        <translation>今年(&amp;Y)</translation>
    </message>
    <message>
        <source>Show the report</source>
        <translation>查看报表</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>ShiftScreen</name>
    <message>
        <source>Shift</source>
        <translation>班次</translation>
    </message>
    <message>
        <source>X report</source>
        <translation>X 报表</translation>
    </message>
    <message>
        <source>Paid in</source>
        <translation>收入</translation>
    </message>
    <message>
        <source>Paid out</source>
        <translation>支出</translation>
    </message>
    <message>
        <source>Close shift</source>
        <translation>交班</translation>
    </message>
    <message>
        <source>Open shift</source>
        <translation>开班</translation>
    </message>
    <message>
        <source>Store reports</source>
        <translation>门店报表</translation>
    </message>
    <message>
        <source>Day end</source>
        <translation>日结</translation>
    </message>
    <message>
        <source>Report by dates</source>
        <translation>按日期查报表</translation>
    </message>
    <message>
        <source>Sales journal</source>
        <translation>销售流水</translation>
    </message>
    <message>
        <source>Sales analysis</source>
        <translation>销售分析</translation>
    </message>
    <message>
        <source>Liabilities</source>
        <translation>负债</translation>
    </message>
    <message>
        <source>Reports show here</source>
        <translation>报表显示在这里</translation>
    </message>
    <message>
        <source>Print</source>
        <translation>打印</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>No shift is open. Open one (F9) to sell.</source>
        <translation>当前没有班次。请先开班（F9）再收银。</translation>
    </message>
    <message>
        <source>Shift %1 (%2)
Opened %3 by %4
Float %5</source>
        <translation>第 %1 班（%2）
%3 由 %4 开班
备用金 %5</translation>
    </message>
    <message>
        <source>Reading the X report…</source>
        <translation>正在生成 X 报表…</translation>
    </message>
    <message>
        <source>Z report: shift %1 closed</source>
        <translation>Z 报表：第 %1 班已交班</translation>
    </message>
    <message>
        <source>X report: shift %1 so far</source>
        <translation>X 报表：第 %1 班（班中）</translation>
    </message>
    <message>
        <source>Day end %1</source>
        <translation>日结 %1</translation>
    </message>
    <message>
        <source>Day %1 (not closed)</source>
        <translation>%1 日报表（未日结）</translation>
    </message>
    <message>
        <source>Report %1 – %2</source>
        <translation>营业报表 %1 – %2</translation>
    </message>
    <message>
        <source>Cash balances: expected %1, counted %2</source>
        <translation>现金相符：应有 %1，实点 %2</translation>
    </message>
    <message>
        <source>Cash over by %3: expected %1, counted %2</source>
        <translation>长款 %3：应有 %1，实点 %2</translation>
    </message>
    <message>
        <source>Cash short by %3: expected %1, counted %2</source>
        <translation>短款 %3：应有 %1，实点 %2</translation>
    </message>
    <message>
        <source>Printing…</source>
        <translation>正在打印…</translation>
    </message>
    <message>
        <source>The Z report is printing.</source>
        <translation>Z 报表正在打印。</translation>
    </message>
    <message>
        <source>The report is printing.</source>
        <translation>报表正在打印。</translation>
    </message>
    <message>
        <source>Cash put into the drawer that is not a sale (change from the bank, …).</source>
        <translation>放入钱箱、但不是销售的现金（如银行换来的零钱）。</translation>
    </message>
    <message>
        <source>Cash taken out of the drawer that is not a refund (a delivery paid, …).</source>
        <translation>从钱箱取出、但不是退款的现金（如支付送货费）。</translation>
    </message>
    <message>
        <source>Recording…</source>
        <translation>正在记录…</translation>
    </message>
    <message>
        <source>Paid in %1 recorded: %2</source>
        <translation>已记录收入 %1：%2</translation>
    </message>
    <message>
        <source>Paid out %1 recorded: %2</source>
        <translation>已记录支出 %1：%2</translation>
    </message>
    <message>
        <source>Count the float in the drawer and type it.</source>
        <translation>请清点钱箱中的备用金并输入金额。</translation>
    </message>
    <message>
        <source>Open the shift</source>
        <translation>确认开班</translation>
    </message>
    <message>
        <source>Opening…</source>
        <translation>正在开班…</translation>
    </message>
    <message>
        <source>Shift %1 is open with a float of %2.</source>
        <translation>第 %1 班已开班，备用金 %2。</translation>
    </message>
    <message>
        <source>A sale is still on the checkout screen: finish it, hold it or cancel it before closing the shift.</source>
        <translation>收银界面还有未完成的交易：请先结账、挂单或取消，再交班。</translation>
    </message>
    <message>
        <source>Closing the shift…</source>
        <translation>正在交班…</translation>
    </message>
    <message>
        <source>Close the day %1? Its figures are recorded once and cannot change; every shift of the day must be closed first.</source>
        <translation>确定对 %1 日结吗？日结数据只记录一次，之后不能更改；当天所有班次须先交班。</translation>
    </message>
    <message>
        <source>Close the day</source>
        <translation>确认日结</translation>
    </message>
    <message>
        <source>Closing the day…</source>
        <translation>正在日结…</translation>
    </message>
    <message>
        <source>Adding up the figures…</source>
        <translation>正在统计…</translation>
    </message>
</context>
</TS>
