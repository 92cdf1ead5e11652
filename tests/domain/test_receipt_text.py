"""The receipt as plain text: exact columns on 32- and 48-column paper, in Chinese or English."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import format_fen
from pos_app.domain.receipt import (
    ReceiptAdjustment,
    ReceiptDocument,
    ReceiptLine,
    ReceiptMember,
    ReceiptTender,
)
from pos_app.domain.receipt_text import render_text

LONG_NAME = "Coca-Cola可口可乐零度无糖汽水330ml×24罐整箱装家庭聚会超值分享装限时特惠"
MIXED_NAME = "Lay's乐事薯片 原味 70g"


def display_width(text: str) -> int:
    """Printer columns, computed here independently of the module under test."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def adj(kind: str, zh: str, en: str, fen: int, rule: str = "r") -> ReceiptAdjustment:
    return ReceiptAdjustment(kind=kind, rule=rule, label_zh=zh, label_en=en, amount_fen=fen)


def member_sale() -> ReceiptDocument:
    """Three lines (one very long name), member price, tier and promotion discounts, a coupon,
    抹零, stored value short so the rest in cash, with change."""
    lines = (
        ReceiptLine(
            1,
            "6901",
            "伊利纯牛奶250ml",
            2,
            350,
            700,
            630,
            (
                adj("member_price", "会员价", "Member price", 50),
                adj("tier", "金卡 9.5折", "Gold 5% off", 20),
            ),
        ),
        ReceiptLine(
            2,
            "6902",
            LONG_NAME,
            1,
            6990,
            6990,
            6200,
            (adj("promotion", "周二饮料日 9折", "Tuesday drinks 10% off", 790, "TUE"),),
        ),
        ReceiptLine(3, "6903", MIXED_NAME, 3, 650, 1950, 1950),
    )
    gross = 700 + 6990 + 1950
    discount = 50 + 20 + 790 + 800
    rounding = 80
    total = gross - discount - rounding
    return ReceiptDocument(
        store_code="SH01",
        store_name="上海南京路店",
        receipt_no="SH0120260302000017",
        kind="sale",
        business_time="2026-03-02 10:00",
        operator_name="王收银",
        lines=lines,
        gross_fen=gross,
        discount_fen=discount,
        rounding_fen=rounding,
        total_fen=total,
        tenders=(
            ReceiptTender(
                "stored_value",
                "储值卡",
                "Stored value",
                5000,
                reference="6200****1234",
                detail_zh="本金 ¥40.00 赠送 ¥10.00",
                detail_en="principal ¥40.00, bonus ¥10.00",
            ),
            ReceiptTender("cash", "现金", "Cash", total - 5000),
        ),
        cash_given_fen=5000,
        change_fen=5000 - (total - 5000),
        sale_adjustments=(
            adj("coupon", "满20减8券", "¥8 off over ¥20", 800, "C20-8"),
            adj("rounding", "抹零到角", "Rounded down to jiao", rounding, "jiao"),
        ),
        coupons_used=("CP8888 满20减8券",),
        member=ReceiptMember(
            member_no="M000123",
            name="张三",
            masked_mobile="138****5678",
            tier_name="金卡",
            tier_name_en="Gold",
            card_no_masked="6200****1234",
            stored_value_fen=0,
            principal_fen=0,
            bonus_fen=0,
            points_earned=79,
            points_balance=1279,
            tier_upgraded_to="金卡",
            passes=("洗车10次卡 剩余 7 次",),
        ),
        notes=("请保留小票，七日内凭小票退换",),
    )


def refund() -> ReceiptDocument:
    return ReceiptDocument(
        store_code="SH01",
        store_name="上海南京路店",
        receipt_no="SH0120260302000018",
        kind="refund",
        business_time="2026-03-02 11:30",
        operator_name="王收银",
        lines=(ReceiptLine(1, "6901", "伊利纯牛奶250ml", -1, 350, -350, -315),),
        gross_fen=-350,
        discount_fen=-35,
        rounding_fen=0,
        total_fen=-315,
        tenders=(ReceiptTender("cash", "现金", "Cash", -315),),
        original_receipt_no="SH0120260302000017",
        approved_by_name="李店长",
    )


def cash_sale() -> ReceiptDocument:
    return ReceiptDocument(
        store_code="SH01",
        store_name="上海南京路店",
        receipt_no="SH0120260302000019",
        kind="sale",
        business_time="2026-03-02 12:00",
        operator_name="王收银",
        lines=(ReceiptLine(1, "6904", "农夫山泉 550ml", 2, 200, 400, 400),),
        gross_fen=400,
        discount_fen=0,
        rounding_fen=0,
        total_fen=400,
        tenders=(ReceiptTender("cash", "现金", "Cash", 400),),
        cash_given_fen=1000,
        change_fen=600,
    )


DOCUMENTS = {"member_sale": member_sale, "refund": refund, "cash_sale": cash_sale}
LAYOUTS = [(w, lang) for w in (32, 48) for lang in ("zh", "en")]


def lines_of(doc: ReceiptDocument, width: int, lang: str) -> list[str]:
    text = render_text(doc, width, lang)
    assert text.endswith("\n")
    return text.splitlines()


def row(label: str, value: str, width: int, indent: str = "") -> str:
    """A label and a value ending on the last column, computed by display width."""
    left = indent + label
    return left + " " * (width - display_width(left) - display_width(value)) + value


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize(("width", "lang"), LAYOUTS)
def test_every_line_fits_the_paper(name, width, lang):
    for line in lines_of(DOCUMENTS[name](), width, lang):
        assert display_width(line) <= width, line


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize(("width", "lang"), LAYOUTS)
def test_the_receipt_no_is_the_last_line_alone(name, width, lang):
    doc = DOCUMENTS[name]()
    lines = lines_of(doc, width, lang)
    assert lines[-1] == doc.receipt_no
    assert any(doc.receipt_no in line for line in lines[:-1])  # also in the header


@pytest.mark.parametrize("width", [32, 48])
def test_totals_end_on_the_last_column(width):
    doc = member_sale()
    lines = lines_of(doc, width, "zh")
    assert row("合计", format_fen(doc.gross_fen), width) in lines
    assert row("优惠", format_fen(-doc.discount_fen), width) in lines
    assert row("抹零", format_fen(-doc.rounding_fen), width) in lines
    assert row("【应收】", format_fen(doc.total_fen), width) in lines
    assert row("实收现金", "¥50.00", width) in lines
    assert row("找零", format_fen(doc.change_fen), width) in lines
    total = next(line for line in lines if line.startswith("【应收】"))
    assert display_width(total) == width
    assert total.endswith(format_fen(doc.total_fen))


@pytest.mark.parametrize("width", [32, 48])
def test_line_rows_and_their_discounts_are_aligned_exactly(width):
    lines = lines_of(member_sale(), width, "zh")
    assert row("2 x ¥3.50", "¥7.00", width, "  ") in lines
    assert row("会员价", "-¥0.50", width, "  ") in lines
    assert row("金卡 9.5折", "-¥0.20", width, "  ") in lines
    assert row("3 x ¥6.50", "¥19.50", width, "  ") in lines
    assert row("满20减8券", "-¥8.00", width, "  ") in lines
    assert row("抹零到角", "-¥0.80", width, "  ") in lines


@pytest.mark.parametrize("width", [32, 48])
def test_mixed_latin_and_chinese_names_keep_amounts_aligned(width):
    lines = lines_of(member_sale(), width, "en")
    at = lines.index(MIXED_NAME)  # short enough for one line on either paper
    assert lines[at + 1] == row("3 x ¥6.50", "¥19.50", width, "  ")
    assert display_width(lines[at + 1]) == width
    # Every amount row of the items block (between the first two rules) ends on the last column.
    items = lines[lines.index("-" * width) + 1 :]
    items = items[: items.index("-" * width)]
    amount_rows = [line for line in items if line.startswith("  ")]
    assert len(amount_rows) == 6  # 3 quantity rows, 3 line discounts
    for line in amount_rows:
        assert "¥" in line.split()[-1], line
        assert display_width(line) == width, line


@pytest.mark.parametrize("width", [32, 48])
def test_a_long_name_wraps_rather_than_overflowing(width):
    lines = lines_of(member_sale(), width, "zh")
    assert display_width(LONG_NAME) > width
    assert not any(LONG_NAME in line for line in lines)
    first = next(i for i, line in enumerate(lines) if line.startswith("Coca-Cola"))
    joined = ""
    i = first
    while joined.replace(" ", "") != LONG_NAME.replace(" ", ""):
        assert display_width(lines[i]) <= width
        joined += lines[i]
        i += 1
        assert i - first < 6, joined
    assert i - first >= 2  # it took more than one line
    assert lines[i] == row("1 x ¥69.90", "¥69.90", width, "  ")


@pytest.mark.parametrize("width", [32, 48])
def test_a_long_adjustment_label_wraps_and_keeps_its_amount_aligned(width):
    long_label = "周末狂欢 饮料第二件半价 满二件再享九五折优惠活动（限会员）"
    doc = member_sale()
    line = replace(doc.lines[0], adjustments=(adj("promotion", long_label, "x", 123),))
    lines = lines_of(replace(doc, lines=(line,)), width, "zh")
    amount_rows = [line for line in lines if line.endswith("-¥1.23")]
    assert len(amount_rows) == 1
    assert display_width(amount_rows[0]) == width


def test_english_labels():
    text = render_text(member_sale(), 32, "en")
    for label in (
        "SALE",
        "Receipt: ",
        "Cashier: ",
        "Gross",
        "Discount",
        "Rounding",
        "TOTAL",
        "Cash given",
        "Change",
        "Member: 张三 M000123",
        "Tier: Gold",
        "Stored value left",
        "Points earned",
        "Points balance",
        "Upgraded to Gold",
        "Gold 5% off",
        "¥8 off over ¥20",
        "principal ¥40.00, bonus ¥10.00",
        "Coupons used",
        "Thank you, please come again",
    ):
        assert label in text, label
    for chinese in ("应收", "合计", "找零", "会员价", "谢谢惠顾", "储值余额", "金卡 9.5折"):
        assert chinese not in text, chinese


def test_chinese_labels():
    text = render_text(member_sale(), 32, "zh")
    for label in (
        "销售单",
        "单号：SH0120260302000017",
        "时间：2026-03-02 10:00",
        "收银员：王收银",
        "会员：张三 M000123",
        "手机：138****5678",
        "等级：金卡",
        "卡号：6200****1234",
        "本次积分",
        "积分余额",
        "恭喜升级为 金卡",
        "洗车10次卡 剩余 7 次",
        "CP8888 满20减8券",
        "本金 ¥40.00 赠送 ¥10.00",
        "参考号：6200****1234",
        "请保留小票，七日内凭小票退换",
        "谢谢惠顾 欢迎再次光临",
    ):
        assert label in text, label
    assert "Gross" not in text and "TOTAL" not in text


def test_member_balances_and_points_are_right_aligned():
    lines = lines_of(member_sale(), 32, "zh")
    assert row("储值余额", "¥0.00", 32) in lines
    assert row("本金", "¥0.00", 32, "  ") in lines
    assert row("赠送", "¥0.00", 32, "  ") in lines
    assert row("本次积分", "+79", 32) in lines
    assert row("积分余额", "1279", 32) in lines


def test_store_name_and_kind_are_centred():
    lines = lines_of(member_sale(), 32, "zh")
    assert lines[0] == " " * ((32 - 12) // 2) + "上海南京路店"
    assert lines[1] == " " * ((32 - 9) // 2) + "门店 SH01"
    assert lines[2] == " " * ((32 - 6) // 2) + "销售单"


@pytest.mark.parametrize("width", [32, 48])
def test_refund_says_what_goes_back_under_refund_labels(width):
    doc = refund()
    zh = lines_of(doc, width, "zh")
    assert any(line.strip() == "退货单" for line in zh)
    assert "原单号：SH0120260302000017" in zh
    assert "审批：李店长" in zh
    # What goes back, as positive amounts: goods returned − discount taken back = refund due.
    assert row("1 x ¥3.50", "¥3.50", width, "  ") in zh
    assert row("退货金额", "¥3.50", width) in zh
    assert row("扣回优惠", "-¥0.35", width) in zh
    assert row("【应退】", "¥3.15", width) in zh
    assert "退款方式" in zh and row("现金", "¥3.15", width) in zh
    assert not any(label in "\n".join(zh) for label in ("应收", "合计", "-¥3."))
    en = lines_of(doc, width, "en")
    assert "REFUND" in "\n".join(en) and "Original no: SH0120260302000017" in en
    assert row("Goods returned", "¥3.50", width) in en
    assert row("Discount taken back", "-¥0.35", width) in en
    assert row("REFUND DUE", "¥3.15", width) in en
    assert "Refunded to" in en and "TOTAL" not in "\n".join(en)


def test_rounding_row_only_when_there_is_rounding():
    assert "抹零" not in render_text(cash_sale(), 32, "zh")
    assert "Rounding" not in render_text(cash_sale(), 32, "en")
    assert "抹零" in render_text(member_sale(), 32, "zh")


def test_non_member_cash_sale_has_cash_and_change_but_no_member_block():
    lines = lines_of(cash_sale(), 32, "zh")
    assert row("实收现金", "¥10.00", 32) in lines
    assert row("找零", "¥6.00", 32) in lines
    assert not any(line.startswith(("会员", "积分", "储值")) for line in lines)


def test_no_cash_given_means_no_change_rows():
    doc = replace(
        cash_sale(), tenders=(ReceiptTender("wechat", "微信支付", "WeChat Pay", 400, "4200001"),)
    )
    doc = replace(doc, cash_given_fen=0, change_fen=0)
    text = render_text(doc, 32, "zh")
    assert "找零" not in text and "实收现金" not in text
    assert "参考号：4200001" in text


def test_reprint_is_marked():
    doc = replace(cash_sale(), reprint=True)
    assert "补打" in render_text(doc, 32, "zh")
    assert "REPRINT" in render_text(doc, 48, "en")
    assert "补打" not in render_text(cash_sale(), 32, "zh")


@pytest.mark.parametrize("width", [0, 31, 40, 58, 80])
def test_only_32_or_48_columns(width):
    with pytest.raises(InvalidInput) as err:
        render_text(cash_sale(), width)
    assert "32" in err.value.zh and "48" in err.value.en


def test_control_characters_in_names_do_not_break_lines():
    line = replace(cash_sale().lines[0], name="农夫\n山泉\t550ml")
    lines = lines_of(replace(cash_sale(), lines=(line,)), 32, "zh")
    assert "农夫 山泉 550ml" in lines


CJK_AND_LATIN = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 .-%¥洗车卡牛奶可乐会员价折ＡＢ（）。\u0301")),
    min_size=0,
    max_size=90,
)


@settings(max_examples=60, deadline=None)
@given(
    name=CJK_AND_LATIN,
    label=CJK_AND_LATIN,
    note=CJK_AND_LATIN,
    fen=st.integers(min_value=-(10**10), max_value=10**10),
    qty=st.integers(min_value=-9999, max_value=9999),
    width=st.sampled_from([32, 48]),
    lang=st.sampled_from(["zh", "en"]),
)
def test_any_names_and_amounts_fit(name, label, note, fen, qty, width, lang):
    doc = member_sale()
    line = ReceiptLine(1, "X", name, qty, fen, fen, fen, (adj("promotion", label, label, fen),))
    tender = ReceiptTender(
        "bank", label, label, fen, reference=name, detail_zh=note, detail_en=note
    )
    doc = replace(
        doc,
        store_name=name,
        lines=(line,),
        gross_fen=fen,
        total_fen=fen,
        tenders=(tender,),
        notes=(note,),
        member=replace(doc.member, name=name, passes=(note,)),
    )
    lines = lines_of(doc, width, lang)
    assert all(display_width(line) <= width for line in lines)
    assert lines[-1] == doc.receipt_no
    assert any(line.endswith(format_fen(fen)) for line in lines)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_round_trips_through_json(name):
    doc = DOCUMENTS[name]()
    assert ReceiptDocument.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc
