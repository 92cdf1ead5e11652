"""The store's rules (top-up bonuses, spending order, points, tiers) and their TOML file format.

A rules file is loaded once by an admin (`pos-app rules load FILE`) and stored with a version
number; every ledger entry records the version it was computed under, so an old entry can
always be explained by the rules in force at the time. The documented example is
`pos_app/resources/rules.example.toml`.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from pos_app.domain.control_chars import has_control_chars, shown
from pos_app.domain.errors import DomainError, RulesError
from pos_app.domain.money import (
    FEN_PER_YUAN,
    MAX_AMOUNT_FEN,
    MAX_TOPUP_FEN,
    format_fen,
    parse_yuan,
)
from pos_app.domain.scale_barcode import ScaleBarcodeFormat, format_problem
from pos_app.domain.toml_key_lines import key_lines, line_of

SPEND_ORDERS = ("principal_first", "bonus_first", "pro_rata")
EXPIRY_MODES = ("rolling", "yearly", "never")
ROUNDING_MODES = ("none", "jiao", "yuan")
PROMOTION_KINDS = ("points_multiplier", "category_discount", "threshold_gift")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # [0-9]: \d takes any script's digits
MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


@dataclass(frozen=True)
class BonusTier:
    """Top up at least `min_topup_fen`, receive `bonus_fen` as bonus (充500送50)."""

    min_topup_fen: int
    bonus_fen: int
    coupon_template: str | None = None  # a coupon template code given with the bonus
    coupon_count: int = 0


@dataclass(frozen=True)
class StoredValueRules:
    spend_order: str = "principal_first"
    min_topup_fen: int = 100
    pin_threshold_fen: int = 0
    daily_limit_fen: int = 0
    cancel_fee_fen: int = 0
    bonus: tuple[BonusTier, ...] = ()


@dataclass(frozen=True)
class PointsRules:
    per_yuan: int = 1
    expiry: str = "rolling"
    rolling_months: int = 12
    yearly_clear_date: str = "12-31"
    yearly_keep_years: int = 1
    referral_points: int = 0
    reset_on_upgrade: bool = False
    redeem_points_per_yuan: int = 100  # points as a tender: this many points pay ¥1
    redeem_max_percent: int = 50  # at most this share of a bill may be paid with points
    claim_days: int = 7  # 补积分: a walk-in receipt may be credited to a member this many days on
    # A manager's purchase credited with no receipt may be at most this (0 = not allowed).
    manual_purchase_max_fen: int = 50000


@dataclass(frozen=True)
class TierLevel:
    """One level. Thresholds of 0 mean "this way of upgrading does not apply"."""

    code: str
    name: str
    name_en: str
    rank: int
    discount_percent: int = 100
    points_multiplier_permille: int = 1000
    upgrade_cumulative_spend_fen: int = 0
    upgrade_single_purchase_fen: int = 0
    upgrade_topup_fen: int = 0
    keep_cumulative_spend_fen: int = 0


@dataclass(frozen=True)
class TierRules:
    window_days: int = 365
    review_date: str = "01-01"
    levels: tuple[TierLevel, ...] = (
        TierLevel(code="normal", name="普通会员", name_en="Regular", rank=0),
    )

    @property
    def base(self) -> TierLevel:
        return self.levels[0]

    def level(self, code: str) -> TierLevel:
        for lvl in self.levels:
            if lvl.code == code:
                return lvl
        return self.base


@dataclass(frozen=True)
class CheckoutRules:
    rounding: str = "none"  # 抹零: "jiao" drops the fen, "yuan" drops jiao and fen
    refund_limit_fen: int = 20000  # a cashier's refunds and voids above this need a manager
    # A cashier's refunds in one shift above this need a manager too (0 = no such limit).
    shift_refund_limit_fen: int = 0
    registration_coupon: str | None = None  # coupon template code given on registration (新人券)
    # A cashier alone may cut a line's price (改价) by this share, give this much off the whole
    # order (整单折扣) and round this much off (抹零); beyond, a manager approves the sale.
    manual_price_max_drop_pct: int = 10
    order_discount_max_pct: int = 5
    manual_rounding_max_fen: int = 100
    # The label layouts the store's label scales print (条码秤); none: no scale labels.
    scale_barcodes: tuple[ScaleBarcodeFormat, ...] = ()


@dataclass(frozen=True)
class ChainSpendRules:
    """`[chain]`: how far a till stands in for HQ when it cannot ask HQ to authorize a card
    spend (docs/chain-protocol.md, "Spending a card anywhere"). Counted per business day
    from the till's own stand-in entries; 0 allows no stand-in of that kind."""

    offline_card_daily_fen: int = 50000  # stored value per card per day
    offline_till_daily_fen: int = 500000  # stored value per till per day
    offline_points_daily: int = 10000  # points per member per day
    offline_coupons: bool = True  # whether coupons may be used offline
    # Stand-in only from balances heard from HQ within this many hours.
    offline_staleness_hours: int = 24


@dataclass(frozen=True)
class Promotion:
    """A promotion in a date window (inclusive ISO dates; None = open-ended).

    points_multiplier: named SKUs/categories earn `multiplier_permille`/1000 × points.
    category_discount: lines in `categories` cost `percent_off`% less on `weekdays` (1 = Mon).
    threshold_gift: a sale of at least `threshold_fen` (in scope) gets `gift_sku` free.
    """

    code: str
    kind: str
    name: str
    name_en: str
    date_from: str | None = None
    date_to: str | None = None
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    multiplier_permille: int = 1000
    weekdays: tuple[int, ...] = ()
    percent_off: int = 0
    threshold_fen: int = 0
    gift_sku: str | None = None


@dataclass(frozen=True)
class Rules:
    """Everything configurable about stored value, points, tiers, checkout and promotions."""

    label: str = "default"
    stored_value: StoredValueRules = field(default_factory=StoredValueRules)
    points: PointsRules = field(default_factory=PointsRules)
    tiers: TierRules = field(default_factory=TierRules)
    checkout: CheckoutRules = field(default_factory=CheckoutRules)
    promotions: tuple[Promotion, ...] = ()
    chain: ChainSpendRules = field(default_factory=ChainSpendRules)


DEFAULT_RULES = Rules()

# Bounds a real chain never goes past: a value beyond them is a typing slip (a 1e9
# multiplier earned 1.77 trillion points; a 1e23 referral reward overflowed the database
# on the referred member's first purchase, so that member could not buy at all). Each is
# documented in pos_app/resources/rules.example.toml.
MAX_MULTIPLIER_PERMILLE = 100_000  # 100× points, for a tier or a promotion
MAX_POINTS_PER_YUAN = 100
MAX_REFERRAL_POINTS = 100_000
MAX_REDEEM_POINTS_PER_YUAN = 10_000
MAX_ROLLING_MONTHS = 120
MAX_KEEP_YEARS = 10
MAX_WINDOW_DAYS = 3660
MAX_CLAIM_DAYS = 366  # 补积分 for a receipt at most a year old
MAX_STALENESS_HOURS = 720  # stand-in from balances at most 30 days old
MAX_OFFLINE_POINTS = 10_000_000
MAX_COUPONS_PER_BONUS = 100
MAX_CANCEL_FEE_FEN = 1_000 * FEN_PER_YUAN
MAX_THRESHOLD_FEN = 10_000_000 * FEN_PER_YUAN  # cumulative spend to reach or keep a tier
MAX_LIMIT_FEN = 1_000_000 * FEN_PER_YUAN  # daily limit, refund limit, PIN threshold, ...
MAX_LABEL_CHARS = 80
MAX_NAME_CHARS = 40
MAX_CODE_CHARS = 32
_MULTIPLIER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")


def parse_rules(text: str, *, strict: bool = True) -> Rules:
    """Parse and validate a rules file; every mistake is named with its key and line.

    `strict=False` reads a version stored earlier, which passed the checks of its day:
    only the sanity checks added since (empty file, bounds, dates, thresholds in order,
    control characters) are skipped, so such a version still reads as it was loaded."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"规则文件不是有效的 TOML：{exc}", f"The rules file is not valid TOML: {exc}"
        ) from None
    try:
        if strict and not data:
            raise _Problem("", "is empty: no settings at all", "是空的：没有任何设置")
        return _Parser(data, strict).rules()
    except _Problem as problem:
        raise rules_error(text, problem.where, problem.en, problem.zh) from None


def rules_error(text: str, where: str, what_en: str, what_zh: str | None = None) -> RulesError:
    """A RulesError about the setting `where` (e.g. "tiers.level[2].upgrade_topup") of the
    rules file `text`, naming its line; also for checks made against the database."""
    line = line_of(key_lines(text), where) if where else None
    what_zh = what_zh or what_en
    place_zh = f"（第 {line} 行）" if line else ""
    place_en = f" (line {line})" if line else ""
    where_text = where or "(file)"
    return RulesError(
        f"规则文件错误{place_zh}：{where_text} {what_zh}",
        f"Rules file error{place_en}: {where_text} {what_en}",
    )


class _Problem(Exception):
    """One mistake, with its place as a key path; parse_rules adds the line."""

    def __init__(self, where: str, en: str, zh: str | None = None) -> None:
        super().__init__(en)
        self.where = where
        self.en = en
        self.zh = zh or en


def _err(where: str, en: str, zh: str | None = None) -> _Problem:
    return _Problem(where, en, zh)


class _Parser:
    def __init__(self, data: dict[str, Any], strict: bool) -> None:
        self.data = data
        self.strict = strict

    def rules(self) -> Rules:
        known = {"label", "stored_value", "points", "tiers", "checkout", "promotion", "chain"}
        _reject_unknown(self.data, known, "")
        return Rules(
            label=self._text(self.data, "label", "", "unnamed", MAX_LABEL_CHARS),
            stored_value=self._stored_value(self.data.get("stored_value", {})),
            points=self._points(self.data.get("points", {})),
            tiers=self._tiers(self.data.get("tiers", {})),
            checkout=self._checkout(self.data.get("checkout", {})),
            promotions=self._promotions(self.data.get("promotion", [])),
            chain=self._chain(self.data.get("chain", {})),
        )

    # -- reading one value ---------------------------------------------------------------

    def _text(
        self, table: dict[str, Any], key: str, where: str, default: str, max_chars: int
    ) -> str:
        """A label or name: text on one line, within its length."""
        path = f"{where}.{key}" if where else key
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _err(path, "must be text in quotes", "必须是带引号的文字")
        text = str(value).strip()
        if self.strict:
            if has_control_chars(text):
                raise _err(
                    path,
                    f"cannot contain control characters: {shown(text)}",
                    f"不能包含控制字符：{shown(text)}",
                )
            if len(text) > max_chars:
                raise _err(path, f"is at most {max_chars} characters", f"最多 {max_chars} 个字")
        return text

    def _code(self, table: dict[str, Any], key: str, where: str) -> str | None:
        """A coupon template or SKU a setting names (None when not given)."""
        if not table.get(key):
            return None
        return self._text(table, key, where, "", MAX_CODE_CHARS) or None

    def _yuan(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        *,
        default: int = 0,
        required: bool = False,
        allow_zero: bool = True,
        max_fen: int = MAX_LIMIT_FEN,
    ) -> int:
        path = f"{where}.{key}"
        if key not in table:
            if required:
                raise _err(path, "is required", "必须填写")
            return default
        value = table[key]
        if isinstance(value, float):
            # TOML floats are binary; ask for a string so 0.1 stays exactly 0.1 yuan.
            raise _err(
                path,
                'write amounts as integers or strings, e.g. "12.50"',
                '金额请写成整数或带引号的文字，例如 "12.50"',
            )
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise _err(path, 'must be an amount such as "12.50"', '必须是金额，例如 "12.50"')
        try:
            return parse_yuan(
                value, allow_zero=allow_zero, max_fen=max_fen if self.strict else MAX_AMOUNT_FEN
            )
        except DomainError as exc:
            raise _err(path, exc.en, exc.zh) from None

    def _int(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        default: int,
        *,
        minimum: int,
        maximum: int,
    ) -> int:
        path = f"{where}.{key}"
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _err(path, "must be a whole number", "必须是整数")
        if value < minimum:
            raise _err(path, f"must be at least {minimum}", f"不能小于 {minimum}")
        if value > maximum and self.strict:
            raise _err(path, f"must be at most {maximum}", f"不能大于 {maximum}")
        return value

    def _permille(self, table: dict[str, Any], key: str, where: str) -> int:
        """A multiplier such as "1.5" (or 1.5, or 2) in thousandths: 1500."""
        path = f"{where}.{key}"
        value = table.get(key, "1")
        text = (repr(value) if isinstance(value, float) else str(value)).strip()
        match = _MULTIPLIER.fullmatch(text)
        if (
            isinstance(value, bool)
            or match is None
            or not (match[1] or match[2])
            or len(match[2] or "") > 3
        ):
            raise _err(
                path,
                'must be a number such as "1.5" (at most three decimals)',
                '必须是数字，例如 "1.5"（最多三位小数）',
            )
        whole = match[1].lstrip("0")
        # More digits than any bound: not turned into a number at all ("1" and a million 0s).
        permille = int(whole or "0") * 1000 if len(whole) <= 9 else 10**12
        permille += int((match[2] or "").ljust(3, "0"))
        if permille > MAX_MULTIPLIER_PERMILLE and self.strict:
            limit = MAX_MULTIPLIER_PERMILLE // 1000
            raise _err(path, f"must be at most {limit} (×)", f"不能大于 {limit} 倍")
        return permille

    def _date(self, row: dict[str, Any], key: str, where: str) -> str | None:
        if key not in row:
            return None
        path = f"{where}.{key}"
        text = str(row[key])
        if not ISO_DATE.fullmatch(text):
            raise _err(path, "must be a date written YYYY-MM-DD", "必须是 YYYY-MM-DD 格式的日期")
        if self.strict:
            try:
                date.fromisoformat(text)
            except ValueError:
                raise _err(
                    path, f"is not a date in the calendar: {text}", f"不是日历上的日期：{text}"
                ) from None
        return text

    def _month_day(self, table: dict[str, Any], key: str, where: str, default: str) -> str:
        path = f"{where}.{key}"
        text = str(table.get(key, default))
        match = MONTH_DAY.fullmatch(text)
        if not match:
            raise _err(path, f"must be MM-DD, e.g. {default}", f"必须是 MM-DD，例如 {default}")
        month, day = int(match[1]), int(match[2])
        # Any year's calendar: 02-29 exists (and falls back to 02-28 in other years).
        if self.strict and day > calendar.monthrange(2024, month)[1]:
            raise _err(path, f"is not a day of the year: {text}", f"不是一年中存在的日期：{text}")
        return text

    # -- the sections --------------------------------------------------------------------

    def _checkout(self, co: dict[str, Any]) -> CheckoutRules:
        _reject_unknown(
            co,
            {
                "rounding",
                "refund_limit",
                "shift_refund_limit",
                "registration_coupon",
                "manual_price_max_drop_pct",
                "order_discount_max_pct",
                "manual_rounding_max",
                "scale_barcode",
            },
            "checkout",
        )
        rounding = co.get("rounding", "none")
        if rounding not in ROUNDING_MODES:
            raise _one_of("checkout.rounding", ROUNDING_MODES)
        return CheckoutRules(
            rounding=rounding,
            refund_limit_fen=self._yuan(co, "refund_limit", "checkout", default=20000),
            shift_refund_limit_fen=self._yuan(co, "shift_refund_limit", "checkout", default=0),
            registration_coupon=self._code(co, "registration_coupon", "checkout"),
            manual_price_max_drop_pct=self._int(
                co, "manual_price_max_drop_pct", "checkout", 10, minimum=0, maximum=100
            ),
            order_discount_max_pct=self._int(
                co, "order_discount_max_pct", "checkout", 5, minimum=0, maximum=100
            ),
            manual_rounding_max_fen=self._yuan(
                co, "manual_rounding_max", "checkout", default=100, max_fen=10_000
            ),
            scale_barcodes=self._scale_barcodes(co.get("scale_barcode", [])),
        )

    def _chain(self, chain: dict[str, Any]) -> ChainSpendRules:
        _reject_unknown(
            chain,
            {
                "offline_card_daily",
                "offline_till_daily",
                "offline_points_daily",
                "offline_coupons",
                "offline_staleness_hours",
            },
            "chain",
        )
        where = "chain"
        return ChainSpendRules(
            offline_card_daily_fen=self._yuan(
                chain, "offline_card_daily", where, default=50000, max_fen=MAX_TOPUP_FEN
            ),
            offline_till_daily_fen=self._yuan(chain, "offline_till_daily", where, default=500000),
            offline_points_daily=self._int(
                chain, "offline_points_daily", where, 10000, minimum=0, maximum=MAX_OFFLINE_POINTS
            ),
            offline_coupons=_bool(chain, "offline_coupons", where, True),
            offline_staleness_hours=self._int(
                chain,
                "offline_staleness_hours",
                where,
                24,
                minimum=1,
                maximum=MAX_STALENESS_HOURS,
            ),
        )

    def _scale_barcodes(self, rows: Any) -> tuple[ScaleBarcodeFormat, ...]:
        where = "checkout.scale_barcode"
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _err(
                where,
                "must be an array of tables: [[checkout.scale_barcode]]",
                "必须写成表数组：[[checkout.scale_barcode]]",
            )
        formats = []
        for i, row in enumerate(rows):
            at = f"{where}[{i + 1}]"
            _reject_unknown(row, {"layout", "prefixes", "price_decimals", "weight_decimals"}, at)
            layout = row.get("layout")
            if not isinstance(layout, str):
                raise _err(f"{at}.layout", 'is required, e.g. "FFPPPPP$$$$$C"', "必须填写")
            fmt = ScaleBarcodeFormat(
                layout=layout,
                prefixes=self._str_list(row, "prefixes", at) or ScaleBarcodeFormat().prefixes,
                price_decimals=self._int(row, "price_decimals", at, 2, minimum=0, maximum=2),
                weight_decimals=self._int(row, "weight_decimals", at, 3, minimum=0, maximum=3),
            )
            problem = format_problem(fmt)
            if problem is not None:
                raise _err(at, problem[1], problem[0])
            formats.append(fmt)
        return tuple(formats)

    def _promotions(self, rows: Any) -> tuple[Promotion, ...]:
        if not isinstance(rows, list):
            raise _err(
                "promotion",
                "must be an array of tables: [[promotion]]",
                "必须写成表数组：[[promotion]]",
            )
        out = []
        for i, row in enumerate(rows):
            where = f"promotion[{i}]"
            _reject_unknown(
                row,
                {
                    "code",
                    "kind",
                    "name",
                    "name_en",
                    "from",
                    "to",
                    "skus",
                    "categories",
                    "multiplier",
                    "weekdays",
                    "percent_off",
                    "threshold",
                    "gift_sku",
                },
                where,
            )
            kind = row.get("kind")
            if kind not in PROMOTION_KINDS:
                raise _one_of(f"{where}.kind", PROMOTION_KINDS)
            code = self._text(row, "code", where, "", MAX_CODE_CHARS)
            if not code:
                raise _err(f"{where}.code", "is required", "必须填写")
            date_from = self._date(row, "from", where)
            date_to = self._date(row, "to", where)
            if self.strict and date_from and date_to and date_to < date_from:
                raise _err(
                    f"{where}.to",
                    f"is before from ({date_to} < {date_from})",
                    f"早于开始日期 from（{date_to} < {date_from}）",
                )
            skus = self._str_list(row, "skus", where)
            categories = self._str_list(row, "categories", where)
            weekdays = row.get("weekdays", [])
            if not isinstance(weekdays, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in weekdays
            ):
                raise _err(
                    f"{where}.weekdays",
                    "must be a list of days 1 (Monday) to 7 (Sunday)",
                    "必须是 1（周一）到 7（周日）的列表",
                )
            name = self._text(row, "name", where, code, MAX_LABEL_CHARS)
            promo = Promotion(
                code=code,
                kind=kind,
                name=name,
                name_en=self._text(row, "name_en", where, name, MAX_LABEL_CHARS),
                date_from=date_from,
                date_to=date_to,
                skus=skus,
                categories=categories,
                multiplier_permille=self._permille(row, "multiplier", where),
                weekdays=tuple(weekdays),
                percent_off=self._int(row, "percent_off", where, 0, minimum=0, maximum=100),
                threshold_fen=self._yuan(row, "threshold", where, default=0),
                gift_sku=self._code(row, "gift_sku", where),
            )
            if kind == "points_multiplier" and not (skus or categories):
                raise _err(
                    where,
                    "a points multiplier needs skus or categories",
                    "积分倍数活动需要 skus 或 categories",
                )
            if kind == "category_discount" and not (categories and promo.percent_off):
                raise _err(
                    where,
                    "a category discount needs categories and percent_off",
                    "品类折扣需要 categories 和 percent_off",
                )
            if kind == "threshold_gift" and not (promo.threshold_fen and promo.gift_sku):
                raise _err(
                    where,
                    "a threshold gift needs threshold and gift_sku",
                    "满额赠品需要 threshold 和 gift_sku",
                )
            out.append(promo)
        codes = [p.code for p in out]
        if len(set(codes)) != len(codes):
            raise _err("promotion", "two promotions have the same code", "两个活动的 code 相同")
        return tuple(out)

    def _stored_value(self, sv: dict[str, Any]) -> StoredValueRules:
        _reject_unknown(
            sv,
            {"spend_order", "min_topup", "pin_threshold", "daily_limit", "cancel_fee", "bonus"},
            "stored_value",
        )
        order = sv.get("spend_order", "principal_first")
        if order not in SPEND_ORDERS:
            raise _one_of("stored_value.spend_order", SPEND_ORDERS)
        rows = sv.get("bonus", [])
        if not isinstance(rows, list):
            raise _err(
                "stored_value.bonus",
                "must be an array of tables: [[stored_value.bonus]]",
                "必须写成表数组：[[stored_value.bonus]]",
            )
        bonus = []
        for i, row in enumerate(rows):
            where = f"stored_value.bonus[{i}]"
            _reject_unknown(row, {"min_topup", "bonus", "coupon", "coupon_count"}, where)
            coupon = self._code(row, "coupon", where)
            tier = BonusTier(
                min_topup_fen=self._yuan(
                    row, "min_topup", where, required=True, max_fen=MAX_TOPUP_FEN
                ),
                bonus_fen=self._yuan(row, "bonus", where, required=True, max_fen=MAX_TOPUP_FEN),
                coupon_template=coupon,
                coupon_count=self._int(
                    row,
                    "coupon_count",
                    where,
                    1 if coupon else 0,
                    minimum=0,
                    maximum=MAX_COUPONS_PER_BONUS,
                ),
            )
            if self.strict and tier.bonus_fen > tier.min_topup_fen:
                raise _err(
                    f"{where}.bonus",
                    "cannot be above its min_topup (the bonus would exceed the money paid)",
                    "不能高于 min_topup（赠送不能多于实付）",
                )
            bonus.append(tier)
        thresholds = [b.min_topup_fen for b in bonus]
        if len(set(thresholds)) != len(thresholds):
            raise _err(
                "stored_value.bonus",
                "two bonus rows have the same min_topup",
                "两行赠送的 min_topup 相同",
            )
        where = "stored_value"
        return StoredValueRules(
            spend_order=order,
            min_topup_fen=self._yuan(sv, "min_topup", where, default=100, max_fen=MAX_TOPUP_FEN),
            pin_threshold_fen=self._yuan(sv, "pin_threshold", where, default=0),
            daily_limit_fen=self._yuan(sv, "daily_limit", where, default=0),
            cancel_fee_fen=self._yuan(
                sv, "cancel_fee", where, default=0, max_fen=MAX_CANCEL_FEE_FEN
            ),
            bonus=tuple(sorted(bonus, key=lambda b: b.min_topup_fen)),
        )

    def _points(self, pts: dict[str, Any]) -> PointsRules:
        _reject_unknown(
            pts,
            {
                "per_yuan",
                "expiry",
                "rolling_months",
                "yearly_clear_date",
                "yearly_keep_years",
                "referral_points",
                "reset_on_upgrade",
                "redeem_points_per_yuan",
                "redeem_max_percent",
                "claim_days",
                "manual_purchase_max",
            },
            "points",
        )
        expiry = pts.get("expiry", "rolling")
        if expiry not in EXPIRY_MODES:
            raise _one_of("points.expiry", EXPIRY_MODES)
        where = "points"
        return PointsRules(
            per_yuan=self._int(pts, "per_yuan", where, 1, minimum=0, maximum=MAX_POINTS_PER_YUAN),
            expiry=expiry,
            rolling_months=self._int(
                pts, "rolling_months", where, 12, minimum=1, maximum=MAX_ROLLING_MONTHS
            ),
            yearly_clear_date=self._month_day(pts, "yearly_clear_date", where, "12-31"),
            yearly_keep_years=self._int(
                pts, "yearly_keep_years", where, 1, minimum=0, maximum=MAX_KEEP_YEARS
            ),
            referral_points=self._int(
                pts, "referral_points", where, 0, minimum=0, maximum=MAX_REFERRAL_POINTS
            ),
            reset_on_upgrade=_bool(pts, "reset_on_upgrade", where, False),
            redeem_points_per_yuan=self._int(
                pts,
                "redeem_points_per_yuan",
                where,
                100,
                minimum=1,
                maximum=MAX_REDEEM_POINTS_PER_YUAN,
            ),
            redeem_max_percent=self._int(
                pts, "redeem_max_percent", where, 50, minimum=0, maximum=100
            ),
            claim_days=self._int(pts, "claim_days", where, 7, minimum=0, maximum=MAX_CLAIM_DAYS),
            manual_purchase_max_fen=self._yuan(
                pts, "manual_purchase_max", where, default=50000, max_fen=MAX_TOPUP_FEN
            ),
        )

    def _tiers(self, tiers: dict[str, Any]) -> TierRules:
        _reject_unknown(tiers, {"window_days", "review_date", "level"}, "tiers")
        review = self._month_day(tiers, "review_date", "tiers", "01-01")
        window = self._int(tiers, "window_days", "tiers", 365, minimum=1, maximum=MAX_WINDOW_DAYS)
        rows = tiers.get("level", [])
        if not isinstance(rows, list):
            raise _err(
                "tiers.level", "must be an array of tables: [[tiers.level]]", "必须写成表数组"
            )
        if not rows:
            return TierRules(window_days=window, review_date=review)
        levels = []
        for rank, row in enumerate(rows):
            where = f"tiers.level[{rank}]"
            _reject_unknown(
                row,
                {
                    "code",
                    "name",
                    "name_en",
                    "discount_percent",
                    "points_multiplier",
                    "upgrade_cumulative_spend",
                    "upgrade_single_purchase",
                    "upgrade_topup",
                    "keep_cumulative_spend",
                },
                where,
            )
            code = str(row.get("code", "")).strip()
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", code):
                raise _err(
                    f"{where}.code",
                    "must be lower-case letters, digits or _",
                    "只能是小写字母、数字或 _（以字母开头）",
                )
            upgrade_spend = self._yuan(
                row, "upgrade_cumulative_spend", where, max_fen=MAX_THRESHOLD_FEN
            )
            name = self._text(row, "name", where, code, MAX_NAME_CHARS)
            levels.append(
                TierLevel(
                    code=code,
                    name=name,
                    name_en=self._text(row, "name_en", where, name, MAX_NAME_CHARS),
                    rank=rank,
                    discount_percent=self._int(
                        row, "discount_percent", where, 100, minimum=1, maximum=100
                    ),
                    points_multiplier_permille=self._permille(row, "points_multiplier", where),
                    upgrade_cumulative_spend_fen=upgrade_spend,
                    upgrade_single_purchase_fen=self._yuan(row, "upgrade_single_purchase", where),
                    upgrade_topup_fen=self._yuan(
                        row, "upgrade_topup", where, max_fen=MAX_TOPUP_FEN
                    ),
                    keep_cumulative_spend_fen=self._yuan(
                        row,
                        "keep_cumulative_spend",
                        where,
                        default=upgrade_spend,
                        max_fen=MAX_THRESHOLD_FEN,
                    ),
                )
            )
        codes = [lvl.code for lvl in levels]
        if len(set(codes)) != len(codes):
            raise _err("tiers.level", "two levels have the same code", "两个等级的 code 相同")
        if self.strict:
            _check_thresholds_rise(levels, rows)
        return TierRules(window_days=window, review_date=review, levels=tuple(levels))

    def _str_list(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        path = f"{where}.{key}"
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _err(path, "must be a list of names", "必须是名称的列表")
        names = tuple(v.strip() for v in value)
        if self.strict and any(has_control_chars(v) for v in names):
            raise _err(path, "cannot contain control characters", "不能包含控制字符")
        return names


# Thresholds that must rise with the level, and the key each is written as.
_THRESHOLDS = (
    ("upgrade_cumulative_spend_fen", "upgrade_cumulative_spend"),
    ("upgrade_single_purchase_fen", "upgrade_single_purchase"),
    ("upgrade_topup_fen", "upgrade_topup"),
    ("keep_cumulative_spend_fen", "keep_cumulative_spend"),
)


def _check_thresholds_rise(levels: list[TierLevel], rows: list[Any]) -> None:
    """A higher level asks for more: every threshold a level sets (0 = not used) is above
    the same threshold of each lower level that sets it. Otherwise a member who reached
    "gold" would already have qualified for "diamond", and the order of levels lies."""
    for attr, key in _THRESHOLDS:
        highest: tuple[int, TierLevel] | None = None
        for level in levels:
            value = getattr(level, attr)
            if not value:
                continue
            if highest is not None and value <= highest[0]:
                # keep_cumulative_spend defaults to upgrade_cumulative_spend: name the key
                # that is written in the file.
                written = key if key in rows[level.rank] else "upgrade_cumulative_spend"
                raise _err(
                    f"tiers.level[{level.rank}].{written}",
                    f"must be above {highest[1].code}'s ({format_fen(highest[0])}): higher "
                    "levels need higher thresholds",
                    f"必须高于较低等级 {highest[1].code} 的 {format_fen(highest[0])}"
                    "（等级越高，门槛越高）",
                )
            highest = (value, level)


def _one_of(where: str, choices: tuple[str, ...]) -> _Problem:
    listed = ", ".join(choices)
    return _err(where, f"must be one of {listed}", f"必须是以下之一：{listed}")


def _reject_unknown(table: Any, known: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise _err(where or "(top)", "must be a table", "必须是一个表（table）")
    unknown = sorted(set(table) - known)
    if unknown:
        raise _err(
            f"{where}.{unknown[0]}" if where else unknown[0],
            "is not a known setting",
            "不是已知的设置项",
        )


def _bool(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _err(f"{where}.{key}", "must be true or false", "必须是 true 或 false")
    return value


def rules_to_dict(rules: Rules) -> dict[str, Any]:
    """A plain view of the rules for `rules show` and JSON output (amounts in fen)."""
    return asdict(rules)
