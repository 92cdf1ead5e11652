<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>BackupBox</name>
    <message>
        <source>Backups</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Last good backup</source>
        <translation>最近一次有效备份</translation>
    </message>
    <message>
        <source>Backup folder</source>
        <translation>备份文件夹</translation>
    </message>
    <message>
        <source>Back up now</source>
        <translation>立即备份</translation>
    </message>
    <message>
        <source>To restore a backup, close the till and run: pos-app backup restore NAME (a manager; the current database is kept aside).</source>
        <translation>恢复备份：先关闭收银程序，再运行 pos-app backup restore 备份名（需店长；当前数据库会另存保留）。</translation>
    </message>
    <message>
        <source>No backup yet: back up now.</source>
        <translation>还没有备份：请立即备份。</translation>
    </message>
    <message>
        <source>%1 (%2 h ago), ledger #%3, %4 entries, verified</source>
        <translation>%1（%2 小时前），账本 #%3，共 %4 条记录，已校验</translation>
    </message>
    <message>
        <source>Older than a day: back up now.</source>
        <translation>已超过一天：请立即备份。</translation>
    </message>
    <message>
        <source>Copying…</source>
        <translation>正在复制…</translation>
    </message>
    <message>
        <source>Verifying: %1 entries</source>
        <translation>正在校验：%1 条记录</translation>
    </message>
    <message>
        <source>Backup made and verified: ledger #%1</source>
        <translation>备份完成并已校验：账本 #%1</translation>
    </message>
</context>
</TS>
