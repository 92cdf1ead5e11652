"""The store's rules (top-up bonuses, spending order, points, tiers) and their TOML file format.

A rules file is loaded once by an admin (`pos-app rules load FILE`) and stored with a version
number; every ledger entry records the version it was computed under, so an old entry can
always be explained by the rules in force at the time. The documented example is
`pos_app/resources/rules.example.toml`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pos_app.domain.errors import DomainError, RulesError
from pos_app.domain.money import parse_yuan

SPEND_ORDERS = ("principal_first", "bonus_first", "pro_rata")
EXPIRY_MODES = ("rolling", "yearly", "never")
ROUNDING_MODES = ("none", "jiao", "yuan")
PROMOTION_KINDS = ("points_multiplier", "category_discount", "threshold_gift")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


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


DEFAULT_RULES = Rules()


def parse_rules(text: str) -> Rules:
    """Parse and validate a rules file; every mistake is named with its place in the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"规则文件不是有效的 TOML：{exc}", f"The rules file is not valid TOML: {exc}"
        ) from None
    return _Parser(data).rules()


class _Parser:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def rules(self) -> Rules:
        known = {"label", "stored_value", "points", "tiers", "checkout", "promotion"}
        _reject_unknown(self.data, known, "")
        return Rules(
            label=str(self.data.get("label", "unnamed")),
            stored_value=self._stored_value(self.data.get("stored_value", {})),
            points=self._points(self.data.get("points", {})),
            tiers=self._tiers(self.data.get("tiers", {})),
            checkout=self._checkout(self.data.get("checkout", {})),
            promotions=self._promotions(self.data.get("promotion", [])),
        )

    def _checkout(self, co: dict[str, Any]) -> CheckoutRules:
        _reject_unknown(
            co,
            {"rounding", "refund_limit", "shift_refund_limit", "registration_coupon"},
            "checkout",
        )
        rounding = co.get("rounding", "none")
        if rounding not in ROUNDING_MODES:
            raise _err("checkout.rounding", f"must be one of {', '.join(ROUNDING_MODES)}")
        coupon = co.get("registration_coupon")
        return CheckoutRules(
            rounding=rounding,
            refund_limit_fen=_yuan(co, "refund_limit", "checkout", default=20000),
            shift_refund_limit_fen=_yuan(co, "shift_refund_limit", "checkout", default=0),
            registration_coupon=str(coupon).strip() if coupon else None,
        )

    def _promotions(self, rows: Any) -> tuple[Promotion, ...]:
        if not isinstance(rows, list):
            raise _err("promotion", "must be an array of tables: [[promotion]]")
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
                raise _err(f"{where}.kind", f"must be one of {', '.join(PROMOTION_KINDS)}")
            code = str(row.get("code", "")).strip()
            if not code:
                raise _err(f"{where}.code", "is required")
            for key in ("from", "to"):
                if key in row and not ISO_DATE.match(str(row[key])):
                    raise _err(f"{where}.{key}", "must be a date written YYYY-MM-DD")
            skus = _str_list(row, "skus", where)
            categories = _str_list(row, "categories", where)
            weekdays = row.get("weekdays", [])
            if not isinstance(weekdays, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in weekdays
            ):
                raise _err(f"{where}.weekdays", "must be a list of days 1 (Monday) to 7 (Sunday)")
            promo = Promotion(
                code=code,
                kind=kind,
                name=str(row.get("name", code)),
                name_en=str(row.get("name_en", row.get("name", code))),
                date_from=str(row["from"]) if "from" in row else None,
                date_to=str(row["to"]) if "to" in row else None,
                skus=skus,
                categories=categories,
                multiplier_permille=_permille(row, "multiplier", where),
                weekdays=tuple(weekdays),
                percent_off=_int(row, "percent_off", where, 0, minimum=0, maximum=100),
                threshold_fen=_yuan(row, "threshold", where, default=0),
                gift_sku=str(row["gift_sku"]).strip() if row.get("gift_sku") else None,
            )
            if kind == "points_multiplier" and not (skus or categories):
                raise _err(where, "a points multiplier needs skus or categories")
            if kind == "category_discount" and not (categories and promo.percent_off):
                raise _err(where, "a category discount needs categories and percent_off")
            if kind == "threshold_gift" and not (promo.threshold_fen and promo.gift_sku):
                raise _err(where, "a threshold gift needs threshold and gift_sku")
            out.append(promo)
        codes = [p.code for p in out]
        if len(set(codes)) != len(codes):
            raise _err("promotion", "two promotions have the same code")
        return tuple(out)

    def _stored_value(self, sv: dict[str, Any]) -> StoredValueRules:
        _reject_unknown(
            sv,
            {"spend_order", "min_topup", "pin_threshold", "daily_limit", "cancel_fee", "bonus"},
            "stored_value",
        )
        order = sv.get("spend_order", "principal_first")
        if order not in SPEND_ORDERS:
            raise _err("stored_value.spend_order", f"must be one of {', '.join(SPEND_ORDERS)}")
        bonus = []
        for i, row in enumerate(sv.get("bonus", [])):
            where = f"stored_value.bonus[{i}]"
            _reject_unknown(row, {"min_topup", "bonus", "coupon", "coupon_count"}, where)
            coupon = str(row["coupon"]).strip() if row.get("coupon") else None
            bonus.append(
                BonusTier(
                    min_topup_fen=_yuan(row, "min_topup", where, required=True),
                    bonus_fen=_yuan(row, "bonus", where, required=True, allow_zero=True),
                    coupon_template=coupon,
                    coupon_count=_int(row, "coupon_count", where, 1 if coupon else 0, minimum=0),
                )
            )
        thresholds = [b.min_topup_fen for b in bonus]
        if len(set(thresholds)) != len(thresholds):
            raise _err("stored_value.bonus", "two bonus rows have the same min_topup")
        return StoredValueRules(
            spend_order=order,
            min_topup_fen=_yuan(sv, "min_topup", "stored_value", default=100),
            pin_threshold_fen=_yuan(sv, "pin_threshold", "stored_value", default=0),
            daily_limit_fen=_yuan(sv, "daily_limit", "stored_value", default=0),
            cancel_fee_fen=_yuan(sv, "cancel_fee", "stored_value", default=0),
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
            raise _err("points.expiry", f"must be one of {', '.join(EXPIRY_MODES)}")
        clear = str(pts.get("yearly_clear_date", "12-31"))
        if not MONTH_DAY.match(clear):
            raise _err("points.yearly_clear_date", "must be MM-DD, e.g. 12-31")
        return PointsRules(
            per_yuan=_int(pts, "per_yuan", "points", 1, minimum=0),
            expiry=expiry,
            rolling_months=_int(pts, "rolling_months", "points", 12, minimum=1),
            yearly_clear_date=clear,
            yearly_keep_years=_int(pts, "yearly_keep_years", "points", 1, minimum=0),
            referral_points=_int(pts, "referral_points", "points", 0, minimum=0),
            reset_on_upgrade=_bool(pts, "reset_on_upgrade", "points", False),
            redeem_points_per_yuan=_int(pts, "redeem_points_per_yuan", "points", 100, minimum=1),
            redeem_max_percent=_int(
                pts, "redeem_max_percent", "points", 50, minimum=0, maximum=100
            ),
            claim_days=_int(pts, "claim_days", "points", 7, minimum=0),
            manual_purchase_max_fen=_yuan(pts, "manual_purchase_max", "points", default=50000),
        )

    def _tiers(self, tiers: dict[str, Any]) -> TierRules:
        _reject_unknown(tiers, {"window_days", "review_date", "level"}, "tiers")
        review = str(tiers.get("review_date", "01-01"))
        if not MONTH_DAY.match(review):
            raise _err("tiers.review_date", "must be MM-DD, e.g. 01-01")
        rows = tiers.get("level", [])
        if not rows:
            return TierRules(
                window_days=_int(tiers, "window_days", "tiers", 365, minimum=1),
                review_date=review,
            )
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
                raise _err(f"{where}.code", "must be lower-case letters, digits or _")
            upgrade_spend = _yuan(row, "upgrade_cumulative_spend", where, default=0)
            levels.append(
                TierLevel(
                    code=code,
                    name=str(row.get("name", code)),
                    name_en=str(row.get("name_en", row.get("name", code))),
                    rank=rank,
                    discount_percent=_int(
                        row, "discount_percent", where, 100, minimum=1, maximum=100
                    ),
                    points_multiplier_permille=_permille(row, "points_multiplier", where),
                    upgrade_cumulative_spend_fen=upgrade_spend,
                    upgrade_single_purchase_fen=_yuan(
                        row, "upgrade_single_purchase", where, default=0
                    ),
                    upgrade_topup_fen=_yuan(row, "upgrade_topup", where, default=0),
                    keep_cumulative_spend_fen=_yuan(
                        row, "keep_cumulative_spend", where, default=upgrade_spend
                    ),
                )
            )
        codes = [lvl.code for lvl in levels]
        if len(set(codes)) != len(codes):
            raise _err("tiers.level", "two levels have the same code")
        return TierRules(
            window_days=_int(tiers, "window_days", "tiers", 365, minimum=1),
            review_date=review,
            levels=tuple(levels),
        )


def _err(where: str, what: str) -> RulesError:
    return RulesError(f"规则文件错误：{where} {what}", f"Rules file error: {where} {what}")


def _reject_unknown(table: Any, known: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise _err(where or "(top)", "must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise _err(f"{where}.{unknown[0]}" if where else unknown[0], "is not a known setting")


def _yuan(
    table: dict[str, Any],
    key: str,
    where: str,
    *,
    default: int = 0,
    required: bool = False,
    allow_zero: bool = True,
) -> int:
    if key not in table:
        if required:
            raise _err(f"{where}.{key}", "is required")
        return default
    value = table[key]
    if isinstance(value, float):
        # TOML floats are binary; ask for a string so 0.1 stays exactly 0.1 yuan.
        raise _err(f"{where}.{key}", 'write amounts as integers or strings, e.g. "12.50"')
    try:
        return parse_yuan(value, allow_zero=allow_zero)
    except DomainError as exc:
        raise _err(f"{where}.{key}", exc.en) from None


def _int(
    table: dict[str, Any],
    key: str,
    where: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _err(f"{where}.{key}", "must be a whole number")
    if minimum is not None and value < minimum:
        raise _err(f"{where}.{key}", f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise _err(f"{where}.{key}", f"must be at most {maximum}")
    return value


def _bool(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _err(f"{where}.{key}", "must be true or false")
    return value


def _permille(table: dict[str, Any], key: str, where: str) -> int:
    value = table.get(key, "1")
    try:
        permille = Decimal(str(value)) * 1000
    except InvalidOperation:
        raise _err(f"{where}.{key}", 'must be a number such as "1.5"') from None
    if permille != permille.to_integral_value() or permille < 0:
        raise _err(f"{where}.{key}", "must be at least 0 with at most three decimals")
    return int(permille)


def _str_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _err(f"{where}.{key}", "must be a list of names")
    return tuple(v.strip() for v in value)


def rules_to_dict(rules: Rules) -> dict[str, Any]:
    """A plain view of the rules for `rules show` and JSON output (amounts in fen)."""
    return asdict(rules)
