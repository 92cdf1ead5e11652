"""Count cards (计次卡), time cards (时限卡), packages (套餐卡) and trial cards (体验卡).

A card product carries a pass spec: which services it covers, how many uses of each (None:
unlimited, for time cards) and for how many days. Selling one grants the member a pass; at
checkout the member's usable passes cover the matching service lines as a tender.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pos_app.domain.errors import InvalidInput

# Product kinds that grant a pass, and the kind of pass each grants. A trial card is a small
# count card (often sold once per member), so it is kept as a count pass.
PASS_KIND_OF_PRODUCT = {
    "count_card": "count",
    "trial_card": "count",
    "time_card": "time",
    "package": "package",
}
CARD_PRODUCT_KINDS = frozenset(PASS_KIND_OF_PRODUCT)
PASS_KIND_NAMES = {
    "count": ("计次卡", "count card"),
    "time": ("时限卡", "time card"),
    "package": ("套餐卡", "package"),
}
MAX_USES = 9999  # uses of one service on one card; more is a typing mistake
MAX_VALID_DAYS = 3660  # about ten years
MAX_SKU_LENGTH = 32


@dataclass(frozen=True)
class PassSpec:
    """What one card product grants: `kind` is the pass kind (count, time, package)."""

    kind: str
    services: dict[str, int | None]
    valid_days: int


def parse_pass_spec(product_kind: str, text: str | None) -> PassSpec:
    """Read a product's pass spec, JSON exactly {"services": {SKU: uses}, "valid_days": N}.

    Count, trial and package cards give a whole number of uses (≥ 1) of each service; a time
    card gives unlimited use, written as null.
    """
    kind = PASS_KIND_OF_PRODUCT.get(product_kind)
    if kind is None:
        raise InvalidInput(
            f"商品类型 {product_kind} 不是次卡/时卡/套餐卡/体验卡",
            f"Product kind {product_kind} is not a count, time, package or trial card",
        )
    data = _json_object(text)
    unknown = sorted(set(data) - {"services", "valid_days"})
    if unknown:
        raise InvalidInput(
            f"次卡规格有未知字段：{', '.join(unknown)}",
            f"Unknown field(s) in the card spec: {', '.join(unknown)}",
        )
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise InvalidInput(
            "次卡规格必须列出至少一项服务（services）",
            "The card spec must list at least one service (services)",
        )
    checked: dict[str, int | None] = {}
    for sku, uses in services.items():
        checked[_check_sku(sku)] = _check_uses(product_kind, sku, uses)
    return PassSpec(kind, checked, _check_valid_days(data.get("valid_days")))


def _json_object(text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        raise InvalidInput("次卡商品缺少规格（pass_spec）", "The card product has no pass_spec")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidInput(
            "次卡规格不是有效的 JSON", "The card spec (pass_spec) is not valid JSON"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("次卡规格必须是 JSON 对象", "The card spec must be a JSON object")
    return data


def _check_sku(sku: str) -> str:
    if not sku.strip() or sku != sku.strip() or len(sku) > MAX_SKU_LENGTH:
        raise InvalidInput(f"服务编码不正确：{sku!r}", f"Not a service SKU: {sku!r}")
    return sku


def _check_uses(product_kind: str, sku: str, uses: object) -> int | None:
    if product_kind == "time_card":
        if uses is not None:
            raise InvalidInput(
                f"时限卡不计次数，服务 {sku} 的次数应为 null",
                f"A time card has unlimited uses: {sku} must be null",
            )
        return None
    # bool is an int in Python; `true` in the JSON is a mistake, not one use.
    if not isinstance(uses, int) or isinstance(uses, bool) or not 1 <= uses <= MAX_USES:
        raise InvalidInput(
            f"服务 {sku} 的次数必须是 1 到 {MAX_USES} 的整数",
            f"The uses of {sku} must be a whole number from 1 to {MAX_USES}",
        )
    return uses


def _check_valid_days(days: object) -> int:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_VALID_DAYS:
        raise InvalidInput(
            f"有效天数（valid_days）必须是 1 到 {MAX_VALID_DAYS} 的整数",
            f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}",
        )
    return days


def valid_until(granted_on: date, valid_days: int) -> date:
    """The last day a pass may be used, inclusive: granted on D for N days → D + N − 1."""
    if valid_days < 1:
        raise InvalidInput("有效天数必须大于零", "valid_days must be above zero")
    return granted_on + timedelta(days=valid_days - 1)


@dataclass(frozen=True)
class HeldPass:
    """A pass a member holds, as checkout sees it. `items` maps each service SKU to the uses
    left (None: unlimited); `service_names` maps a SKU to its (Chinese, English) name."""

    pass_id: str
    name: str
    kind: str
    valid_until: date
    items: dict[str, int | None]
    granted_at: str = ""  # ISO time; orders passes granted the same day
    state: str = "active"
    name_en: str | None = None
    service_names: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def usable_on(self, today: date) -> bool:
        return self.state == "active" and self.valid_until >= today


@dataclass(frozen=True)
class ServiceLine:
    """A service line of the sale: `net_fen` is the whole line's amount after discounts."""

    line_no: int
    sku: str
    qty: int
    net_fen: int


@dataclass(frozen=True)
class PassUse:
    """Units of one line covered by one pass; `amount_fen` is their share of the line's net."""

    pass_id: str
    service_sku: str
    line_no: int
    qty: int
    amount_fen: int


def share_fen(net_fen: int, qty: int, start: int, stop: int) -> int:
    """The value of units [start, stop) of a line of `qty` units worth `net_fen` in all.

    Cumulative floor shares, so any split of a line into consecutive parts adds up exactly to
    the line's net: the parts of a fully covered line (or a fully reversed use) sum to it.
    """
    return net_fen * stop // qty - net_fen * start // qty


def plan_uses(passes: list[HeldPass], lines: list[ServiceLine], today: date) -> list[PassUse]:
    """Cover as many units of the service lines as the member's usable passes allow.

    Expired and revoked passes are skipped. The pass that expires first is used first, so the
    member loses as little as possible; among passes expiring the same day an unlimited one
    goes first (it costs the member nothing), then the one granted first. A line may be
    covered in part (two washes, one use left: one wash covered, the other paid otherwise).
    """
    seen: set[int] = set()
    for line in lines:
        if line.line_no in seen:
            raise InvalidInput(f"行号重复：{line.line_no}", f"Line {line.line_no} appears twice")
        seen.add(line.line_no)
        if line.qty < 1 or line.net_fen < 0:
            raise InvalidInput(
                f"第 {line.line_no} 行的数量或金额不正确",
                f"Line {line.line_no} has a bad quantity or amount",
            )
    usable = [p for p in passes if p.usable_on(today)]
    left = {p.pass_id: dict(p.items) for p in usable}
    uses: list[PassUse] = []
    for line in lines:
        order = sorted(
            (p for p in usable if line.sku in p.items),
            key=lambda p: (p.valid_until, p.items[line.sku] is not None, p.granted_at, p.pass_id),
        )
        covered = 0
        for held in order:
            if covered == line.qty:
                break
            remaining = left[held.pass_id][line.sku]
            take = line.qty - covered if remaining is None else min(remaining, line.qty - covered)
            if take <= 0:
                continue
            if remaining is not None:
                left[held.pass_id][line.sku] = remaining - take
            amount = share_fen(line.net_fen, line.qty, covered, covered + take)
            uses.append(PassUse(held.pass_id, line.sku, line.line_no, take, amount))
            covered += take
    return uses


def uses_text(held: HeldPass, lang: str = "zh") -> str:
    """One line for the member: "洗车10次卡 精致洗车 剩余 7 次 (至 2027-03-01)", or for a time
    card "健身月卡 不限次 至 2026-04-01"; in English with `lang="en"`."""
    en = lang.startswith("en")
    name = (held.name_en or held.name) if en else held.name
    until = held.valid_until.isoformat()
    if all(uses is None for uses in held.items.values()):
        return f"{name} unlimited until {until}" if en else f"{name} 不限次 至 {until}"
    parts = []
    for sku, uses in held.items.items():
        zh_name, en_name = held.service_names.get(sku, (sku, None))
        service = (en_name or zh_name) if en else zh_name
        if uses is None:
            parts.append(f"{service} unlimited" if en else f"{service} 不限次")
        elif en:
            parts.append(f"{service} {uses} use{'' if uses == 1 else 's'} left")
        else:
            parts.append(f"{service} 剩余 {uses} 次")
    if en:
        return f"{name} {', '.join(parts)} (until {until})"
    return f"{name} {'，'.join(parts)} (至 {until})"
