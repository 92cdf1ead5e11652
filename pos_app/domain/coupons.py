"""Coupons (电子优惠券): templates, codes, validity, whether a coupon may be used, and the
replay that checks a coupon's state against its ledger entries.

A template says what a coupon is worth (满20减8, 8.5折 capped, a free gift, an exchange
voucher) and when it may be used; a coupon is one issued code of a template. The discount
arithmetic inside a sale belongs to pricing, which reads `CouponTerms`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from random import Random

from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_AMOUNT_FEN
from pos_app.domain.rules import BonusTier


class CouponKind(StrEnum):
    AMOUNT_OFF = "amount_off"  # 满减: amount off over a threshold
    PERCENT_OFF = "percent_off"  # 折扣券: percent off, optionally capped
    GIFT = "gift"  # 赠品券: a free product with the sale
    EXCHANGE = "exchange"  # 兑换券: exchanged for a product


class CouponState(StrEnum):
    ISSUED = "issued"
    USED = "used"
    VOID = "void"


SOURCES = ("manual", "registration", "topup", "points", "batch", "birthday", "campaign")

# No 0/O or 1/I: codes are read aloud and typed from paper.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 10, 12
MAX_BATCH = 10_000
MAX_VALID_DAYS = 3660
MAX_PER_MEMBER = 1000  # a per-member limit above this is no limit, mistyped
MAX_POINTS_COST = 100_000_000  # points for one coupon; more is a typing slip
TEMPLATE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


@dataclass(frozen=True)
class CouponTerms:
    """What pricing needs to know about one coupon presented at a sale."""

    coupon_id: str
    code: str
    template_code: str
    name: str
    kind: str
    threshold_fen: int
    amount_off_fen: int
    percent_off: int  # 15 = 15% off (8.5折)
    cap_fen: int  # 0 = no cap
    categories: tuple[str, ...]  # empty with `skus` empty: the whole sale
    skus: tuple[str, ...]
    gift_sku: str | None
    stacks_with_tier: bool
    stacks_with_coupons: bool
    restore_on_refund: bool
    valid_to: str


@dataclass(frozen=True)
class TemplateSpec:
    """A coupon template as an operator describes it; `validate_template` checks it."""

    code: str
    name: str
    kind: str
    threshold_fen: int = 0
    amount_off_fen: int = 0
    percent_off: int = 0
    cap_fen: int = 0
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    gift_sku: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    valid_days: int | None = None
    per_member_limit: int = 0
    stacks_with_tier: bool = True
    stacks_with_coupons: bool = False
    restore_on_refund: bool = True
    points_cost: int = 0


def _bad(zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, code="coupon_template_invalid")


def normalize_template_code(text: str) -> str:
    return text.strip().upper()


def normalize_code(text: str) -> str:
    """A coupon code as scanned or typed: spaces and dashes dropped, case ignored."""
    return re.sub(r"[\s-]+", "", text).upper()


def parse_date(text: str, what_zh: str, what_en: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{what_zh}日期格式不正确：{text}（例如 2026-03-31）",
            f"{what_en}: not a date: {text} (for example 2026-03-31)",
        ) from None


def _names(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        name = v.strip()
        if name and name not in out:
            out.append(name)
    return tuple(out)


def validate_template(spec: TemplateSpec) -> TemplateSpec:
    """Check a template and return it normalized (code upper-case, names trimmed)."""
    code = normalize_template_code(spec.code)
    if not TEMPLATE_CODE.match(code):
        raise _bad(
            f"券模板编码不正确：{spec.code}（字母、数字、_ 或 -，最多 32 位）",
            f"Not a template code: {spec.code} (letters, digits, _ or -, up to 32)",
        )
    name = refuse_control_chars(spec.name.strip(), "券名称", "coupon name")
    if not name or len(name) > 80:
        raise _bad(
            "券名称不能为空，最多 80 个字", "A coupon name is required (up to 80 characters)"
        )
    try:
        kind = CouponKind(spec.kind)
    except ValueError:
        kinds = "/".join(k.value for k in CouponKind)
        raise _bad(
            f"券类型不正确：{spec.kind}（{kinds}）", f"Not a coupon kind: {spec.kind} ({kinds})"
        ) from None
    for value, zh, en in (
        (spec.threshold_fen, "使用门槛", "threshold"),
        (spec.amount_off_fen, "减免金额", "amount off"),
        (spec.cap_fen, "最高优惠", "cap"),
    ):
        if not 0 <= value <= MAX_AMOUNT_FEN:
            raise _bad(f"{zh}金额不正确", f"The {en} is out of range")
    gift_sku = spec.gift_sku.strip() if spec.gift_sku and spec.gift_sku.strip() else None
    if kind is CouponKind.AMOUNT_OFF:
        if spec.amount_off_fen <= 0:
            raise _bad("满减券需要减免金额", "An amount-off coupon needs an amount above zero")
        # 满20减8: a threshold below the amount would make the coupon worth more than the
        # goods it needs. A threshold of 0 is a no-threshold voucher (无门槛), capped by
        # pricing at the amount it applies to.
        if 0 < spec.threshold_fen < spec.amount_off_fen:
            raise _bad(
                "使用门槛不能低于减免金额（满20减8）",
                "The threshold cannot be below the amount off (e.g. ¥8 off over ¥20)",
            )
    elif spec.amount_off_fen:
        raise _bad("只有满减券有减免金额", "Only an amount-off coupon has an amount off")
    if kind is CouponKind.PERCENT_OFF:
        if not 1 <= spec.percent_off <= 99:
            raise _bad(
                "折扣券的折扣必须在 1% 到 99% 之间",
                "A percent-off coupon takes 1 to 99 percent off",
            )
    elif spec.percent_off or spec.cap_fen:
        raise _bad(
            "只有折扣券有折扣率和最高优惠", "Only a percent-off coupon has a percent and a cap"
        )
    if kind in (CouponKind.GIFT, CouponKind.EXCHANGE):
        if gift_sku is None:
            raise _bad(
                "赠品券和兑换券需要指定商品", "A gift or exchange coupon needs a product SKU"
            )
    elif gift_sku is not None:
        raise _bad("只有赠品券和兑换券指定商品", "Only gift and exchange coupons name a product")
    fixed = spec.valid_from is not None or spec.valid_to is not None
    if fixed and spec.valid_days is not None:
        raise _bad(
            "有效期只能是固定日期或领取后 N 天，不能两者都设",
            "Give fixed dates or a number of days, not both",
        )
    if fixed:
        if spec.valid_from is None or spec.valid_to is None:
            raise _bad("固定有效期需要开始和结束日期", "Fixed dates need both a start and an end")
        if spec.valid_from > spec.valid_to:
            raise _bad("有效期开始日期晚于结束日期", "The validity starts after it ends")
    elif spec.valid_days is None:
        raise _bad("请设置有效期：固定日期或领取后 N 天", "Give fixed dates or a number of days")
    elif not 1 <= spec.valid_days <= MAX_VALID_DAYS:
        raise _bad(
            f"有效天数必须在 1 到 {MAX_VALID_DAYS} 之间",
            f"The number of days is 1 to {MAX_VALID_DAYS}",
        )
    if not 0 <= spec.per_member_limit <= MAX_PER_MEMBER:
        raise _bad(
            f"每人限领数量必须在 0 到 {MAX_PER_MEMBER} 之间",
            f"The per-member limit is 0 to {MAX_PER_MEMBER}",
        )
    if not 0 <= spec.points_cost <= MAX_POINTS_COST:
        raise _bad(
            f"兑换所需积分必须在 0 到 {MAX_POINTS_COST} 之间",
            f"The points cost is 0 to {MAX_POINTS_COST}",
        )
    return replace(
        spec,
        code=code,
        name=name,
        kind=kind.value,
        categories=_names(spec.categories),
        skus=_names(spec.skus),
        gift_sku=gift_sku,
    )


def validity_window(spec: TemplateSpec, issued_on: date) -> tuple[date, date]:
    """The first and last day (inclusive) a coupon issued on `issued_on` may be used.

    Fixed dates are the template's; N days count the issue day as the first.
    """
    if spec.valid_days is not None:
        return issued_on, issued_on + timedelta(days=spec.valid_days - 1)
    assert spec.valid_from is not None and spec.valid_to is not None
    return spec.valid_from, spec.valid_to


def check_issuable(valid_to: date, issued_on: date, template_code: str) -> None:
    """A coupon that could never be used is not issued."""
    if valid_to < issued_on:
        raise InvalidInput(
            f"券模板 {template_code} 已过期（有效期至 {valid_to.isoformat()}），不能再发放",
            f"Template {template_code} has expired (valid to {valid_to.isoformat()}); "
            "it cannot be issued",
            code="coupon_expired",
        )


def check_usable(
    state: str,
    valid_from: date,
    valid_to: date,
    today: date,
    coupon_member_id: str | None,
    sale_member_id: str | None,
    *,
    used_receipt_no: str | None = None,
) -> None:
    """Refuse a coupon that cannot be used at this sale, saying why."""
    if state == CouponState.USED:
        receipt = used_receipt_no or "?"
        raise InvalidInput(
            f"这张券已经用过了（小票 {receipt}）",
            f"This coupon has already been used (receipt {receipt})",
            code="coupon_used",
        )
    if state == CouponState.VOID:
        raise InvalidInput("这张券已作废", "This coupon has been voided", code="coupon_void")
    if state != CouponState.ISSUED:
        raise InvalidInput(f"券状态异常：{state}", f"Unknown coupon state: {state}")
    if today > valid_to:
        raise InvalidInput(
            f"这张券已过期（有效期至 {valid_to.isoformat()}）",
            f"This coupon has expired (valid to {valid_to.isoformat()})",
            code="coupon_expired",
        )
    if today < valid_from:
        raise InvalidInput(
            f"这张券还不能用（{valid_from.isoformat()} 起可用）",
            f"This coupon is not valid yet (from {valid_from.isoformat()})",
            code="coupon_not_yet_valid",
        )
    if coupon_member_id is not None:
        if sale_member_id is None:
            raise InvalidInput(
                "这是会员专属券，请先刷会员卡",
                "This is a member's coupon: identify the member first",
                code="coupon_needs_member",
            )
        if sale_member_id != coupon_member_id:
            raise InvalidInput(
                "这张券属于其他会员",
                "This coupon belongs to another member",
                code="coupon_other_member",
            )


def usable_on(state: str, valid_from: date, valid_to: date, today: date) -> bool:
    """Whether the holder could use the coupon today (the wallet's "usable" mark)."""
    return state == CouponState.ISSUED and valid_from <= today <= valid_to


def new_code(rng: Random, length: int = CODE_LENGTH) -> str:
    """A random coupon code from the unambiguous alphabet; the caller makes sure it is new."""
    if not MIN_CODE_LENGTH <= length <= MAX_CODE_LENGTH:
        raise InvalidInput(
            f"券码长度必须在 {MIN_CODE_LENGTH} 到 {MAX_CODE_LENGTH} 位之间",
            f"A coupon code has {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH} characters",
        )
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(length))


def topup_coupons(bonus: Sequence[BonusTier], amount_fen: int) -> tuple[str, int] | None:
    """The coupons of the highest bonus tier a top-up reaches (template code, count), if any."""
    reached = None
    for tier in sorted(bonus, key=lambda t: t.min_topup_fen):
        if amount_fen >= tier.min_topup_fen:
            reached = tier
    if reached is None or not reached.coupon_template or reached.coupon_count <= 0:
        return None
    return normalize_template_code(reached.coupon_template), reached.coupon_count


def _yuan_short(fen: int) -> str:
    """¥ amounts as people write them on coupons: 20, 19.9, 0.05."""
    whole, part = divmod(fen, 100)
    if part == 0:
        return str(whole)
    if part % 10 == 0:
        return f"{whole}.{part // 10}"
    return f"{whole}.{part:02d}"


def _zhe(percent_off: int) -> str:
    """15% off is 8.5折, 20% off is 8折."""
    paid = 100 - percent_off
    return f"{paid // 10}折" if paid % 10 == 0 else f"{paid // 10}.{paid % 10}折"


def describe(
    kind: str,
    threshold_fen: int,
    amount_off_fen: int,
    percent_off: int,
    cap_fen: int,
    gift_name: str | None = None,
    categories: Sequence[str] = (),
    skus: Sequence[str] = (),
) -> tuple[str, str]:
    """What a coupon is worth, in Chinese and English: 满20减8 / ¥8 off over ¥20."""
    over = threshold_fen > 0
    t = _yuan_short(threshold_fen)
    if kind == CouponKind.AMOUNT_OFF:
        a = _yuan_short(amount_off_fen)
        zh, en = (f"满{t}减{a}", f"¥{a} off over ¥{t}") if over else (f"无门槛减{a}", f"¥{a} off")
    elif kind == CouponKind.PERCENT_OFF:
        zh, en = _zhe(percent_off), f"{percent_off}% off"
        if over:
            zh, en = f"满{t} {zh}", f"{en} over ¥{t}"
        if cap_fen:
            zh, en = f"{zh} 最高减¥{_yuan_short(cap_fen)}", f"{en}, up to ¥{_yuan_short(cap_fen)}"
    elif kind == CouponKind.GIFT:
        g = gift_name or "?"
        zh, en = (f"满{t}送{g}", f"Free {g} over ¥{t}") if over else (f"赠{g}", f"Free {g}")
    else:
        g = gift_name or "?"
        zh, en = f"兑换{g}", f"Exchange for {g}"
        if over:
            zh, en = f"满{t}{zh}", f"{en} over ¥{t}"
    scope = [*categories, *skus]
    if scope:
        zh, en = f"{zh}（限{'、'.join(scope)}）", f"{en} (only {', '.join(scope)})"
    return zh, en


# -- Replay: a coupon's state from its entries -----------------------------------------------


def replay(kinds: Iterable[str]) -> tuple[str | None, list[str]]:
    """The state a coupon's entries (in ledger order) lead to, and what is wrong with them.

    Issued exactly once, first; redeemed only while issued (so never twice without a restore
    between); restored only while used; voided only while issued.
    """
    state: str | None = None
    problems: list[str] = []
    for kind in kinds:
        if kind == EntryKind.COUPON_ISSUED:
            if state is not None:
                problems.append("issued more than once")
                continue
            state = CouponState.ISSUED
        elif state is None:
            problems.append(f"{kind} before the coupon was issued")
        elif kind == EntryKind.COUPON_REDEEMED:
            if state == CouponState.USED:
                problems.append("redeemed again without a restore (used twice)")
            elif state == CouponState.VOID:
                problems.append("redeemed after it was voided")
            state = CouponState.USED
        elif kind == EntryKind.COUPON_RESTORED:
            if state != CouponState.USED:
                problems.append("restored while not used")
            state = CouponState.ISSUED
        elif kind == EntryKind.COUPON_VOIDED:
            if state != CouponState.ISSUED:
                problems.append(f"voided while {state}")
            state = CouponState.VOID
    return (str(state) if state is not None else None), problems
