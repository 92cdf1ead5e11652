"""Every report as tables for a file (CSV, XLSX) or a screen grid: headers in Chinese and
English, amounts as exact yuan, times in the store's local time.

The same sheets feed the CLI's `--xlsx/--csv` and the GUI's Export button, so a file says
what the screen says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from pos_app.domain.liabilities import Liabilities
from pos_app.domain.passes import PASS_KIND_NAMES
from pos_app.domain.report_figures import Figures
from pos_app.domain.sale_request import TENDER_NAMES
from pos_app.services.member_history import MONEY_KINDS, SALE_KINDS, MemberHistory
from pos_app.services.report_export import ExportCell, Sheet, yuan_cell
from pos_app.services.reports import RangeReport, StaffReport
from pos_app.services.sales_analysis import DISCOUNT_KINDS, SalesAnalysis, SalesLine
from pos_app.services.sales_journal import JournalPage

ITEM_HEADER = ("项目 Item", "金额/数量 Amount")


def local(iso_utc: str, tz: tzinfo) -> str:
    return datetime.fromisoformat(iso_utc).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def tender_text(tender: str) -> str:
    zh, en = TENDER_NAMES.get(tender, (tender, tender))
    return f"{zh} {en}"


def figures_sheet(f: Figures, title: str = "汇总 Summary") -> Sheet:
    """A settlement's figures, one per row, in the order the printed report gives them."""
    rows: list[list[ExportCell]] = [
        ["销售笔数 Sales", f.sales_count],
        ["原价合计 Gross", yuan_cell(f.gross_fen)],
        ["优惠 Discounts", yuan_cell(f.discount_fen)],
        ["抹零 Rounding", yuan_cell(f.rounding_fen)],
        ["销售额 Sales total", yuan_cell(f.sales_fen)],
        ["退货笔数 Refunds", f.refunds_count],
        ["退货金额 Refunded", yuan_cell(f.refunds_fen)],
        ["净销售额 Net sales", yuan_cell(f.net_fen)],
        ["其中售卡 Cards sold (prepaid)", yuan_cell(f.card_sales_fen)],
        ["销售（商品与服务） Delivered", yuan_cell(f.delivered_fen)],
        ["客单价 Average ticket", yuan_cell(f.average_ticket_fen)],
        ["会员销售 Member sales", yuan_cell(f.member_net_fen)],
        ["会员占比% Member share %", f.member_share_percent],
        ["非会员销售 Non-member sales", yuan_cell(f.non_member_net_fen)],
    ]
    for r in f.received:
        rows.append([f"收款 Received: {tender_text(r.tender)}", yuan_cell(r.net_fen)])
    rows += [
        ["收款合计 Received total", yuan_cell(f.received_fen)],
        ["预收：售卡 Prepaid: cards sold", yuan_cell(f.card_sales_fen)],
        ["预收：充值 Prepaid: top-ups", yuan_cell(f.topups_fen)],
        ["预收：退还 Prepaid: paid back", yuan_cell(f.topup_refunds_fen + f.card_cancel_fen)],
        ["预收合计 Prepaid total", yuan_cell(f.prepaid_sold_fen)],
        ["核销：储值 Redeemed: stored value", yuan_cell(f.redeemed_sv_fen)],
        ["核销：次卡 Redeemed: card uses", yuan_cell(f.redeemed_passes_fen)],
        ["核销：积分 Redeemed: points", yuan_cell(f.redeemed_points_fen)],
        ["核销合计 Redeemed total", yuan_cell(f.redeemed_fen)],
        ["优惠券面值 Coupons at face", yuan_cell(f.coupons_face_fen)],
    ]
    for t in f.tenders:
        rows.append([f"付款方式 Tender: {tender_text(t.tender)}", yuan_cell(t.net_fen)])
    rows += [
        ["充值赠送 Top-up bonus", yuan_cell(f.topups_bonus_fen)],
        ["储值本金消费 SV principal used", yuan_cell(f.sv_principal_used_fen)],
        ["储值赠送金消费 SV bonus used", yuan_cell(f.sv_bonus_used_fen)],
        ["积分发放 Points issued", f.points_issued],
        ["积分抵扣 Points redeemed", f.points_redeemed],
        ["优惠券发放 Coupons issued", f.coupons_issued],
        ["优惠券核销 Coupons redeemed", f.coupons_redeemed],
        ["新会员 New members", f.members_registered],
        ["备用金 Float", yuan_cell(f.cash.float_fen)],
        ["应有现金 Expected cash", yuan_cell(f.cash.expected_fen)],
        ["实点现金 Counted cash", yuan_cell(f.cash.counted_fen)],
        ["长短款 Over/short", yuan_cell(f.cash.over_short_fen)],
    ]
    return Sheet(title, ITEM_HEADER, rows)


def range_sheets(r: RangeReport) -> list[Sheet]:
    days = Sheet(
        "每日 By day",
        (
            "日期 Day",
            "笔数 Sales",
            "销售额 Sales",
            "退货 Refunds",
            "净额 Net",
            "会员 Members",
            "客单价 Avg",
            "充值 Top-ups",
            "储值消费 SV used",
        ),
        [
            [
                d.day.isoformat(),
                d.sales_count,
                yuan_cell(d.sales_fen),
                yuan_cell(d.refunds_fen),
                yuan_cell(d.net_fen),
                yuan_cell(d.member_net_fen),
                yuan_cell(d.average_ticket_fen),
                yuan_cell(d.topups_fen),
                yuan_cell(d.sv_used_fen),
            ]
            for d in r.days
        ],
    )
    return [figures_sheet(r.figures), days]


def staff_sheet(r: StaffReport) -> Sheet:
    return Sheet(
        "员工业绩 Staff",
        (
            "登录名 Login",
            "姓名 Name",
            "笔数 Sales",
            "销售额 Amount",
            "退货笔数 Refunds",
            "退款 Refunded",
            "净额 Net",
            "客单价 Avg",
            "新会员 Members",
            "充值笔数 Top-ups",
            "充值金额 Top-up amount",
        ),
        [
            [
                x.login,
                x.name,
                x.sales_count,
                yuan_cell(x.sales_fen),
                x.refunds_count,
                yuan_cell(x.refunds_fen),
                yuan_cell(x.net_fen),
                yuan_cell(_average(x.sales_fen, x.sales_count)),
                x.members_registered,
                x.topups_count,
                yuan_cell(x.topups_fen),
            ]
            for x in r.lines
        ],
    )


def _average(total_fen: int, count: int) -> int:
    return (2 * total_fen + count) // (2 * count) if count else 0


def liabilities_sheet(x: Liabilities) -> Sheet:
    rows: list[list[ExportCell]] = [
        ["储值本金 Stored value principal", yuan_cell(x.sv_principal_fen)],
        ["储值赠送金 Stored value bonus", yuan_cell(x.sv_bonus_fen)],
        ["积分 Points", x.points],
        ["积分折现 Points at cash value", yuan_cell(x.points_value_fen)],
    ]
    for p in x.passes:
        zh, en = PASS_KIND_NAMES.get(p.kind, (p.kind, p.kind))
        rows += [
            [f"{zh}张数 {en}s", p.passes],
            [f"{zh}剩余次数 {en} uses left", p.uses_left],
            [f"{zh}未用价值 {en} unused value", yuan_cell(p.value_fen)],
        ]
    rows += [
        ["未用优惠券 Unused coupons", x.coupons],
        ["优惠券面值 Coupons at face", yuan_cell(x.coupons_face_fen)],
        ["负债合计 Total", yuan_cell(x.total_fen)],
    ]
    return Sheet(f"负债 Liabilities {x.day}", ITEM_HEADER, rows)


def analysis_sheets(a: SalesAnalysis) -> list[Sheet]:
    def lines(title: str, key: str, items: Sequence[SalesLine]) -> Sheet:
        return Sheet(
            title,
            (key, "名称 Name", "数量 Qty", "原价 Gross", "净额 Net", "占比% Share %"),
            [
                [
                    x.key,
                    x.name,
                    x.qty,
                    yuan_cell(x.gross_fen),
                    yuan_cell(x.net_fen),
                    _percent(x.net_fen, a.figures.net_fen),
                ]
                for x in items
            ],
        )

    discounts = Sheet(
        "优惠 Discounts",
        ("类型 Kind", "金额 Amount"),
        [
            [" ".join(DISCOUNT_KINDS.get(d.kind, (d.kind, d.kind))), yuan_cell(d.amount_fen)]
            for d in a.discounts
        ],
    )
    return [
        figures_sheet(a.figures),
        lines("品类 Categories", "品类 Category", a.categories),
        lines("商品 Products", "编码 SKU", a.products),
        discounts,
    ]


def _percent(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole) if whole > 0 else 0


def journal_sheet(page: JournalPage, tz: tzinfo) -> Sheet:
    return Sheet(
        "销售流水 Sales journal",
        (
            "小票号 Receipt",
            "类型 Kind",
            "时间 Time",
            "收银员 Cashier",
            "会员号 Member",
            "姓名 Name",
            "手机 Mobile",
            "金额 Total",
            "付款 Tenders",
            "原小票 Original",
        ),
        [
            [
                x.receipt_no,
                " ".join(SALE_KINDS.get(x.kind, (x.kind, x.kind))),
                local(x.at, tz),
                x.operator,
                x.member_no,
                x.member_name,
                x.member_mobile,
                yuan_cell(x.total_fen),
                "/".join(tender_text(t) for t in x.tenders),
                x.original_receipt_no,
            ]
            for x in page.lines
        ],
    )


def history_sheet(h: MemberHistory, tz: tzinfo) -> Sheet:
    kinds = {**SALE_KINDS, **{str(k): v for k, v in MONEY_KINDS.items()}}
    return Sheet(
        f"明细 History {h.member_no}",
        (
            "时间 Time",
            "类型 Kind",
            "小票号 Receipt",
            "金额 Amount",
            "储值变动 Stored value",
            "积分 Points",
            "付款 Tenders",
        ),
        [
            [
                local(x.at, tz),
                " ".join(kinds.get(x.kind, (x.kind, x.kind))),
                x.receipt_no,
                yuan_cell(x.amount_fen),
                yuan_cell(x.stored_value_fen),
                x.points,
                "/".join(tender_text(t) for t in x.tenders),
            ]
            for x in h.lines
        ],
    )
