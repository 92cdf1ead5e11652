"""Coupons (电子优惠券): `coupon template add|list`, `issue`, `list`, `batch`, `exchange`,
`void`."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row, yes_no
from pos_app.cli.path_params import FilePath
from pos_app.domain.coupons import (
    MAX_BATCH,
    MAX_PER_MEMBER,
    MAX_POINTS_COST,
    MAX_VALID_DAYS,
    CouponKind,
    TemplateSpec,
    parse_date,
)
from pos_app.domain.errors import InvalidInput
from pos_app.domain.export_cells import export_row
from pos_app.domain.money import parse_yuan
from pos_app.services.coupons import (
    MAX_MANUAL_ISSUE,
    CouponView,
    TemplateView,
    add_template,
    exchange_points_for_coupon,
    issue_coupons,
    list_templates,
    make_batch,
    member_coupons,
    void_coupon,
)

KINDS = [k.value for k in CouponKind]
STATE_NAMES = {"issued": "未使用 unused", "used": "已使用 used", "void": "已作废 void"}
COUPON_HEADER = [
    "券码 Code",
    "名称 Name",
    "面值 Value",
    "有效期至 Valid to",
    "状态 State",
    "今日可用 Usable",
]


def template_rows(t: TemplateView) -> list[Row]:
    if t.valid_days is not None:
        validity = f"领取后 {t.valid_days} 天 {t.valid_days} days from issue"
    else:
        validity = f"{t.valid_from} – {t.valid_to}"
    rows: list[Row] = [
        ("模板 Template", t.code),
        ("名称 Name", t.name),
        ("类型 Kind", t.kind),
        ("面值 Value", f"{t.value_zh} / {t.value_en}"),
        ("有效期 Validity", validity),
        ("每人限领 Per member", t.per_member_limit or "不限 no limit"),
        ("可叠加等级折扣 Stacks with tier", yes_no(t.stacks_with_tier)),
        ("可叠加其他券 Stacks with coupons", yes_no(t.stacks_with_coupons)),
        ("退货返还 Restored on refund", yes_no(t.restore_on_refund)),
    ]
    if t.points_cost:
        rows.append(("兑换积分 Points cost", t.points_cost))
    return rows


def coupon_line(c: CouponView) -> list[object]:
    return [
        c.code,
        c.name,
        c.value_zh,
        c.valid_to,
        STATE_NAMES.get(c.state, c.state),
        yes_no(c.usable_today),
    ]


def coupon_rows(c: CouponView) -> list[Row]:
    rows: list[Row] = [
        ("券码 Code", c.code),
        ("名称 Name", f"{c.name} ({c.template_code})"),
        ("面值 Value", f"{c.value_zh} / {c.value_en}"),
        ("有效期 Valid", f"{c.valid_from} – {c.valid_to}"),
        ("状态 State", STATE_NAMES.get(c.state, c.state)),
        ("今日可用 Usable today", yes_no(c.usable_today)),
    ]
    if c.member_no:
        rows.append(("会员号 Member no", c.member_no))
    return rows


@click.group()
def coupon() -> None:
    """优惠券 Coupons: templates, issue, wallet, partner batches, points exchange, void."""


@coupon.group("template")
def template() -> None:
    """券模板 Coupon templates (满20减8, 8.5折, gift, exchange)."""


def _yuan_option(value: str | None, allow_zero: bool = False) -> int:
    return parse_yuan(value, allow_zero=allow_zero) if value is not None else 0


@template.command("add")
@click.option("--code", required=True, help="模板编码 Template code (e.g. NEW10)")
@click.option("--name", required=True, help="券名称 Name shown to members")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="类型 Kind")
@click.option("--threshold", metavar="YUAN", help="使用门槛（满 X） Spend needed, in yuan")
@click.option("--amount", metavar="YUAN", help="减免金额（减 Y） Amount off, in yuan")
@click.option(
    "--percent-off",
    type=WholeNumber(0, 100, "折扣", "percent off"),
    default=0,
    help="折扣（15 = 8.5折） Percent off",
)
@click.option("--cap", metavar="YUAN", help="最高优惠 Largest discount, in yuan")
@click.option("--category", "categories", multiple=True, help="限用品类 Only these categories")
@click.option("--sku", "skus", multiple=True, help="限用商品 Only these SKUs")
@click.option("--gift-sku", help="赠品/兑换商品 The free or exchanged product's SKU")
@click.option("--from", "valid_from", metavar="YYYY-MM-DD", help="有效期开始 First valid day")
@click.option("--to", "valid_to", metavar="YYYY-MM-DD", help="有效期结束 Last valid day")
@click.option(
    "--days",
    type=WholeNumber(1, MAX_VALID_DAYS, "有效天数", "number of days"),
    help="领取后 N 天有效 Valid N days from issue",
)
@click.option(
    "--per-member",
    type=WholeNumber(0, MAX_PER_MEMBER, "每人限领", "per-member limit"),
    default=0,
    help="每人限领 Per-member limit (0 = none)",
)
@click.option("--no-stack-tier", is_flag=True, help="不与等级折扣叠加 Not with tier discounts")
@click.option("--stack-coupons", is_flag=True, help="可与其他券叠加 Combines with other coupons")
@click.option("--no-restore", is_flag=True, help="退货不返还 Not given back on refund")
@click.option(
    "--points-cost",
    type=WholeNumber(0, MAX_POINTS_COST, "兑换积分", "points cost"),
    default=0,
    help="积分兑换价 Points to exchange for one",
)
@operator_options()
@click.pass_obj
def template_add(
    inv: Invocation,
    code: str,
    name: str,
    kind: str,
    threshold: str | None,
    amount: str | None,
    percent_off: int,
    cap: str | None,
    categories: tuple[str, ...],
    skus: tuple[str, ...],
    gift_sku: str | None,
    valid_from: str | None,
    valid_to: str | None,
    days: int | None,
    per_member: int,
    no_stack_tier: bool,
    stack_coupons: bool,
    no_restore: bool,
    points_cost: int,
    creds: Credentials,
) -> None:
    """新建券模板 Add a coupon template (managers)."""
    spec = TemplateSpec(
        code=code,
        name=name,
        kind=kind,
        threshold_fen=_yuan_option(threshold, allow_zero=True),
        amount_off_fen=_yuan_option(amount),
        percent_off=percent_off,
        cap_fen=_yuan_option(cap, allow_zero=True),
        categories=categories,
        skus=skus,
        gift_sku=gift_sku,
        valid_from=parse_date(valid_from, "开始", "--from") if valid_from else None,
        valid_to=parse_date(valid_to, "结束", "--to") if valid_to else None,
        valid_days=days,
        per_member_limit=per_member,
        stacks_with_tier=not no_stack_tier,
        stacks_with_coupons=stack_coupons,
        restore_on_refund=not no_restore,
        points_cost=points_cost,
    )
    actor = signed_in(inv, creds)
    t = add_template(inv.store(), actor, spec)
    inv.out.result(asdict(t), template_rows(t), title="券模板已添加 Template added")


@template.command("list")
@operator_options()
@click.pass_obj
def template_list(inv: Invocation, creds: Credentials) -> None:
    """券模板列表 Every coupon template."""
    actor = signed_in(inv, creds)
    templates = list_templates(inv.store(), actor)
    inv.out.result(
        {"templates": [asdict(t) for t in templates]},
        title=f"券模板 {len(templates)} 个 Coupon templates: {len(templates)}",
        tables=[
            (
                "",
                ["模板 Template", "名称 Name", "面值 Value", "积分 Points", "启用 Active"],
                [
                    [t.code, t.name, t.value_zh, t.points_cost or "", yes_no(t.active)]
                    for t in templates
                ],
            )
        ],
    )


def _coupons_result(inv: Invocation, coupons: list[CouponView], title: str, **extra: Any) -> None:
    inv.out.result(
        {**extra, "coupons": [asdict(c) for c in coupons]},
        title=title,
        tables=[("", COUPON_HEADER, [coupon_line(c) for c in coupons])],
    )


@coupon.command("issue")
@click.option("--template", "template_code", required=True, metavar="T", help="券模板 Template")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option(
    "--count",
    type=WholeNumber(1, MAX_MANUAL_ISSUE, "张数", "count"),
    default=1,
    show_default=True,
    help="张数 How many",
)
@operator_options()
@click.pass_obj
def coupon_issue(
    inv: Invocation, template_code: str, member_no: str, count: int, creds: Credentials
) -> None:
    """发券 Give a member coupons by hand."""
    actor = signed_in(inv, creds)
    coupons = issue_coupons(inv.store(), actor, template_code, member_no, count)
    _coupons_result(
        inv,
        coupons,
        f"已发放 {len(coupons)} 张 Issued {len(coupons)} coupon(s)",
        member_no=member_no,
    )


@coupon.command("list")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--all", "include_used", is_flag=True, help="含已用、已作废 Also used and void")
@operator_options()
@click.pass_obj
def coupon_list(inv: Invocation, member_no: str, include_used: bool, creds: Credentials) -> None:
    """会员券包 A member's coupons (unused ones; --all for every one)."""
    actor = signed_in(inv, creds)
    coupons = member_coupons(inv.store(), actor, member_no, include_used=include_used)
    _coupons_result(
        inv, coupons, f"会员 {member_no} 的优惠券 Coupons of {member_no}", member_no=member_no
    )


@coupon.command("batch")
@click.option("--template", "template_code", required=True, metavar="T", help="券模板 Template")
@click.option(
    "--count",
    type=WholeNumber(1, MAX_BATCH, "张数", "count"),
    required=True,
    help=f"张数（最多 {MAX_BATCH}） How many",
)
@click.option("--label", required=True, help="批次名称（合作商户） Batch label (partner)")
@click.option(
    "--out",
    type=FilePath(dir_okay=False, path_type=Path),
    help="券码写入 CSV 文件 Write the codes to a CSV file",
)
@operator_options()
@click.pass_obj
def coupon_batch(
    inv: Invocation,
    template_code: str,
    count: int,
    label: str,
    out: Path | None,
    creds: Credentials,
) -> None:
    """批量券码 Codes for a partner merchant (异业联盟; managers)."""
    if out is not None and out.exists():
        raise InvalidInput(f"文件已存在：{out}", f"The file already exists: {out}")
    actor = signed_in(inv, creds)
    r = make_batch(inv.store(), actor, template_code, count, label)
    if out is not None:
        # utf-8-sig: Excel opens it with the Chinese intact.
        with out.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["code", "template", "valid_from", "valid_to", "label"])
            writer.writerows(
                export_row([c, r.template_code, r.valid_from, r.valid_to, r.label]) for c in r.codes
            )
    rows: list[Row] = [
        ("模板 Template", r.template_code),
        ("批次 Label", r.label),
        ("张数 Count", len(r.codes)),
        ("有效期 Valid", f"{r.valid_from} – {r.valid_to}"),
    ]
    if out is not None:
        rows.append(("文件 File", str(out)))
    inv.out.result(
        {
            "template": r.template_code,
            "label": r.label,
            "count": len(r.codes),
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "out": str(out) if out is not None else None,
            "codes": list(r.codes),
        },
        rows,
        title="券码已生成 Batch made",
    )
    if out is None and not inv.as_json:
        for code in r.codes:
            click.echo(code)


@coupon.command("exchange")
@click.option("--template", "template_code", required=True, metavar="T", help="券模板 Template")
@click.option("--member-no", metavar="N", help="会员号 Member number")
@click.option("--card", "card_no", metavar="CARD", help="卡号 Card number")
@operator_options()
@click.pass_obj
def coupon_exchange(
    inv: Invocation,
    template_code: str,
    member_no: str | None,
    card_no: str | None,
    creds: Credentials,
) -> None:
    """积分兑券 Exchange points for a coupon (6666 points → a ¥111 voucher)."""
    if bool(member_no) == bool(card_no):
        raise InvalidInput(
            "请给出 --member-no 或 --card（二选一）", "Give --member-no or --card (one of them)"
        )
    actor = signed_in(inv, creds)
    r = exchange_points_for_coupon(
        inv.store(), actor, template_code, member_no=member_no, card_no=card_no
    )
    inv.out.result(
        {
            "coupon": asdict(r.coupon),
            "points_spent": r.points_spent,
            "points_balance": r.points_balance,
            "points_entry_id": r.points_entry_id,
        },
        [
            *coupon_rows(r.coupon),
            ("消耗积分 Points spent", r.points_spent),
            ("剩余积分 Points left", r.points_balance),
        ],
        title="积分已兑换优惠券 Points exchanged for a coupon",
    )


@coupon.command("void")
@click.argument("code")
@click.option("--reason", required=True, help="作废原因 Reason")
@operator_options()
@click.pass_obj
def coupon_void(inv: Invocation, code: str, reason: str, creds: Credentials) -> None:
    """作废优惠券 Void an unused coupon (managers)."""
    actor = signed_in(inv, creds)
    c = void_coupon(inv.store(), actor, code, reason)
    inv.out.result({"coupon": asdict(c)}, coupon_rows(c), title="优惠券已作废 Coupon voided")
