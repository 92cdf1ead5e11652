<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>old</name>
    <message>
        <source>The language changes once the open sale is finished: start the app again.</source>
        <translation>当前有未完成的销售，语言将在重新启动程序后切换。</translation>
    </message>
</context>
</TS>
