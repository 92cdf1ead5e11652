<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>CardTestDialog</name>
    <message>
        <source>Test the card readers</source>
        <translation>测试读卡器</translation>
    </message>
    <message>
        <source>Tap, swipe or scan a card now.</source>
        <translation>请现在刷卡、插卡或扫码。</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>No card was read in %1 seconds: check the reader and try again.</source>
        <translation>%1 秒内未读到卡：请检查读卡器后重试。</translation>
    </message>
    <message>
        <source>Waiting for a card… (%1 s)</source>
        <translation>等待读卡…（%1 秒）</translation>
    </message>
    <message>
        <source>IC card</source>
        <translation>IC 卡</translation>
    </message>
    <message>
        <source>Magnetic stripe</source>
        <translation>磁条卡</translation>
    </message>
    <message>
        <source>Barcode</source>
        <translation>条码</translation>
    </message>
    <message>
        <source>QR code</source>
        <translation>二维码</translation>
    </message>
    <message>
        <source>Read: %1 %2
Reader: %3</source>
        <translation>读到：%1 %2
读卡器：%3</translation>
    </message>
    <message>
        <source>The card could not be read: %1</source>
        <translation>读卡失败：%1</translation>
    </message>
</context>
<context>
    <name>SettingsScreen</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>门店</translation>
    </message>
    <message>
        <source>Store code</source>
        <translation>门店编码</translation>
    </message>
    <message>
        <source>Save the name</source>
        <translation>保存名称</translation>
    </message>
    <message>
        <source>Store name (on receipts)</source>
        <translation>门店名称（印在小票上）</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>操作员</translation>
    </message>
    <message>
        <source>Change your own password; admins also add, deactivate and reactivate operators and set new passwords.</source>
        <translation>修改自己的密码；管理员还可添加、停用、启用操作员并重置密码。</translation>
    </message>
    <message>
        <source>Operators and passwords…</source>
        <translation>操作员与密码…</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Device addresses, separated by commas</source>
        <translation>设备地址，多个用逗号分隔</translation>
    </message>
    <message>
        <source>Read a card</source>
        <translation>读卡测试</translation>
    </message>
    <message>
        <source>Card readers</source>
        <translation>读卡器</translation>
    </message>
    <message>
        <source>Print a test page</source>
        <translation>打印测试页</translation>
    </message>
    <message>
        <source>Receipt printer</source>
        <translation>小票打印机</translation>
    </message>
    <message>
        <source>%1 mm</source>
        <translation>%1 毫米</translation>
    </message>
    <message>
        <source>Print as a picture (printer has no Chinese font)</source>
        <translation>图像方式打印（打印机无中文字库）</translation>
    </message>
    <message>
        <source>Paper</source>
        <translation>纸宽</translation>
    </message>
    <message>
        <source>Encoding</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>A cash drawer hangs on the printer</source>
        <translation>打印机上接有钱箱</translation>
    </message>
    <message>
        <source>Pin %1</source>
        <translation>%1 号针脚</translation>
    </message>
    <message>
        <source>Open the drawer</source>
        <translation>弹钱箱测试</translation>
    </message>
    <message>
        <source>Cash drawer</source>
        <translation>钱箱</translation>
    </message>
    <message>
        <source>Show on the display</source>
        <translation>客显测试</translation>
    </message>
    <message>
        <source>Pole display</source>
        <translation>客显屏</translation>
    </message>
    <message>
        <source>Save devices (Ctrl+S)</source>
        <translation>保存设备设置（Ctrl+S）</translation>
    </message>
    <message>
        <source>The test buttons use the devices as they were opened when the app started.</source>
        <translation>测试按钮使用的是程序启动时打开的设备。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>This till</source>
        <translation>本机信息</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据目录</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Verify the ledger</source>
        <translation>核对账本</translation>
    </message>
    <message>
        <source>Only an admin can change the store&apos;s name</source>
        <translation>只有管理员可以修改门店名称</translation>
    </message>
    <message>
        <source>not set up</source>
        <translation>未配置</translation>
    </message>
    <message>
        <source>Saved: receipts and reports now carry this name.</source>
        <translation>已保存：小票和报表将使用此名称。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <source>Saved. Devices are reopened on the next start of the app.</source>
        <translation>已保存。设备将在下次启动程序时重新打开。</translation>
    </message>
    <message>
        <source>Printing the test page…</source>
        <translation>正在打印测试页…</translation>
    </message>
    <message>
        <source>Test page: %1</source>
        <translation>测试页：%1</translation>
    </message>
    <message>
        <source>No cash drawer is set up</source>
        <translation>没有配置钱箱</translation>
    </message>
    <message>
        <source>The drawer opened</source>
        <translation>钱箱已打开</translation>
    </message>
    <message>
        <source>No pole display is set up</source>
        <translation>没有配置客显</translation>
    </message>
    <message>
        <source>Sent to the display: %1</source>
        <translation>已发送到客显：%1</translation>
    </message>
    <message>
        <source>A sale is open on the checkout: finish, hold (F6) or cancel it first. The language was not changed.</source>
        <translation>收银台上有未完成的销售：请先结账、挂单（F6）或取消。语言未更改。</translation>
    </message>
    <message>
        <source>Saved: %1. The whole screen changes at the latest on the next start.</source>
        <translation>已保存：%1。界面最迟在下次启动时切换语言。</translation>
    </message>
    <message>
        <source>Verifying…</source>
        <translation>正在核对…</translation>
    </message>
    <message>
        <source>Verifying the ledger…</source>
        <translation>正在核对账本…</translation>
    </message>
    <message>
        <source>The ledger checks out: %1 entries, %2 cards, %3 members.</source>
        <translation>账本核对无误：%1 条记录，%2 张卡，%3 位会员。</translation>
    </message>
    <message>
        <source>Payments, top-ups, points and refunds are paused until a manager restores a backup or acknowledges the problems (pos-app verify --acknowledge).</source>
        <translation>收款、充值、积分和退款已暂停，直到店长从备份恢复或确认问题（pos-app verify --acknowledge）。</translation>
    </message>
    <message>
        <source>A manager acknowledged these problems; the till records again.</source>
        <translation>店长已确认这些问题，收银已恢复记账。</translation>
    </message>
    <message>
        <source>The ledger has %1 problems; call support:
%2
%3</source>
        <translation>账本有 %1 个问题，请联系技术支持：
%2
%3</translation>
    </message>
</context>
</TS>
