"""X/Z/day-end reports as plain text for 32- and 48-column printers."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.report_figures import CashFigures, Figures, TenderLine, TopUpLine
from pos_app.domain.report_text import ReportHeading, render_report
from pos_app.domain.text_width import display_width

HEADING = ReportHeading(
    kind="z",
    store_name="上海南京路旗舰店（第一分店）会员中心",
    period_from="2026-03-02 08:00",
    period_to="2026-03-02 15:00",
    shift_no=12,
    day="2026-03-02",
    operator="cashier",
)
FIGURES = Figures(
    start="s",
    end="e",
    sales_count=51_234,
    gross_fen=123_456_789,
    discount_fen=3_456_789,
    rounding_fen=12_345,
    sales_fen=119_987_655,
    refunds_count=12,
    refunds_fen=45_600,
    member_sales_count=20_000,
    member_net_fen=60_000_000,
    non_member_sales_count=31_234,
    non_member_net_fen=59_942_055,
    tenders=(
        TenderLine("cash", 30_000, 80_000_000, 10, 45_600),
        TenderLine("wechat", 21_234, 39_987_655),
    ),
    topups=(TopUpLine("cash", 3, 150_000, 15_000),),
    sv_principal_used_fen=1_000,
    sv_bonus_used_fen=50,
    points_issued=600_000,
    points_redeemed=1_200,
    coupons_issued=3,
    coupons_redeemed=2,
    members_registered=7,
    cash=CashFigures(
        float_fen=50_000,
        sales_fen=80_000_000,
        refunds_fen=45_600,
        topups_fen=150_000,
        paid_out_count=1,
        paid_out_fen=3_000,
    ).counted(80_151_300),
)


@pytest.mark.parametrize("width", [32, 48])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_line_fits_the_paper(width: int, lang: str) -> None:
    text = render_report(HEADING, FIGURES, width, lang)
    lines = text.splitlines()
    assert lines and all(display_width(line) <= width for line in lines), text
    assert lines[-1] == "=" * width
    # Amounts end on the last column.
    assert any(line.endswith("¥1199876.55") for line in lines)


def test_chinese_report_shows_each_section_and_the_cash_sum() -> None:
    text = render_report(HEADING, FIGURES, 48, "zh")
    for needle in (
        "Z 报表（交班）",
        "班次：12",
        "销售笔数",
        "51234",
        "退货 12 笔",
        "-¥456.00",
        "现金",
        "微信支付",
        "充值",
        "赠送",
        "¥150.00",
        "本金",
        "¥10.00",
        "发放",
        "600000",
        "核销",
        "新会员",
        "备用金",
        "+¥800000.00",
        "支出 1 笔",
        "-¥30.00",
    ):
        assert needle in text, needle
    lines = text.splitlines()
    assert FIGURES.cash.expected_fen == 50_000 + 80_000_000 - 45_600 + 150_000 - 3_000
    assert [line for line in lines if "应有现金" in line][0].endswith("¥801514.00")
    assert [line for line in lines if "实点现金" in line][0].endswith("¥801513.00")
    assert [line for line in lines if "长款(+)/短款(-)" in line][0].endswith("-¥1.00")


def test_english_labels_and_an_uncounted_drawer() -> None:
    x = ReportHeading("x", "Shop", "2026-03-02 08:00", "2026-03-02 09:00", shift_no=1)
    f = Figures("s", "e", cash=CashFigures(float_fen=100))
    text = render_report(x, f, 32, "en")
    assert "X REPORT (mid-shift)" in text
    assert "Counted cash" in text and "not counted" in text
    assert "Over (+)" not in text


def test_only_32_or_48_columns() -> None:
    with pytest.raises(InvalidInput):
        render_report(HEADING, FIGURES, 40)


def test_money_received_is_kept_apart_from_what_was_delivered() -> None:
    f = Figures(
        start="s",
        end="e",
        sales_count=2,
        gross_fen=50_200,
        sales_fen=50_200,
        member_sales_count=2,
        member_net_fen=50_200,
        card_sales_count=1,
        card_sales_fen=40_000,
        tenders=(TenderLine("cash", 2, 40_200), TenderLine("count_card", 1, 10_000)),
        topups=(TopUpLine("cash", 1, 50_000),),
    )
    lines = render_report(HEADING, f, 48, "zh").splitlines()

    def amount(label: str) -> str:
        return next(x for x in lines if x.strip().startswith(label)).split()[-1]

    assert amount("减：售卡（预收）") == "-¥400.00"
    assert amount("销售（商品与服务）") == "¥102.00"
    assert amount("收款合计") == "¥902.00"  # ¥402 on sales + ¥500 topped up
    assert amount("预收合计") == "¥900.00"
    assert amount("核销合计") == "¥100.00"
    assert "  ¥902.00 - ¥900.00 + ¥100.00 = ¥102.00" in lines
    assert amount("付款合计（＝净销售额）") == "¥502.00"
