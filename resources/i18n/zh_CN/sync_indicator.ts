<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>SyncIndicator</name>
    <message>
        <source>Sync: not set up</source>
        <translation>同步：未配置</translation>
    </message>
    <message>
        <source>Sync stopped: HQ holds a different entry #%1 (fork)</source>
        <translation>同步已停止：总部的第 %1 条记录与本机不同（账本分叉）</translation>
    </message>
    <message>
        <source>HQ unreachable since %1 · %2 waiting</source>
        <translation>HQ 不可达，自 %1 · 待上传 %2 条</translation>
    </message>
    <message>
        <source>Sync refused by HQ (%1) · %2 waiting</source>
        <translation>总部拒收（%1）· 待上传 %2 条</translation>
    </message>
    <message>
        <source>Sync: %1 waiting, not yet sent</source>
        <translation>同步：待上传 %1 条，尚未上传过</translation>
    </message>
    <message>
        <source>Synced %1</source>
        <translation>已同步 %1</translation>
    </message>
    <message>
        <source>Sync: %1 waiting · last %2</source>
        <translation>同步：待上传 %1 条 · 上次 %2</translation>
    </message>
    <message>
        <source>Connect this till to HQ with: pos-app sync setup --hq URL --token T</source>
        <translation>连接总部：pos-app sync setup --hq URL --token T</translation>
    </message>
    <message>
        <source>HQ: %1</source>
        <translation>总部：%1</translation>
    </message>
    <message>
        <source>HQ holds entries up to #%1 of #%2</source>
        <translation>总部已收到第 %1 条（本机共 %2 条）</translation>
    </message>
    <message>
        <source>Last heard from HQ %1 (feed #%2)</source>
        <translation>上次收到总部数据 %1（第 %2 条变更）</translation>
    </message>
    <message>
        <source>Not yet heard from HQ (other stores&apos; cards and balances)</source>
        <translation>尚未收到总部数据（其他门店的卡与余额）</translation>
    </message>
    <message>
        <source>Click to sync now</source>
        <translation>点击立即同步</translation>
    </message>
</context>
</TS>
