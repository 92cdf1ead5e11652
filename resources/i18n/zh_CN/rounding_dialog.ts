<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>RoundingDialog</name>
    <message>
        <source>Round off</source>
        <translation>抹零</translation>
    </message>
    <message>
        <source>Drop the fen (角) or the jiao and fen (元) from the total, or type an amount to take off (0.80). Leave it empty for the usual rounding.</source>
        <translation>抹去分（抹到角）或角和分（抹到元），或输入要抹去的金额（0.80）。留空则按规则抹零。</translation>
    </message>
    <message>
        <source>Amount (¥)</source>
        <translation>金额（¥）</translation>
    </message>
    <message>
        <source>To the jiao</source>
        <translation>抹到角</translation>
    </message>
    <message>
        <source>To the yuan</source>
        <translation>抹到元</translation>
    </message>
</context>
</TS>
