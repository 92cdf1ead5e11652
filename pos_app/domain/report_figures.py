"""The figures of a shift, a day or any period (PRODUCT §9), as plain data.

The services fill them from SQL aggregates; here they are added up (a range is the sum of its
days), turned into JSON for the day-close record and back, and checked for the identities a
settlement must satisfy. Amounts are integer fen. Refund amounts are kept positive (what left
the till) so that every "net" figure is `sales − refunds`.

Money received (收款) and what was delivered (销售) are kept apart. Selling a count card or
topping up a card takes money and a debt to the member (prepaid value, 预收), but hands over
no goods; spending stored value, points or a card's uses hands over goods or services and
takes no money. So, over any period:

    收款 received − 预收 prepaid sold + 核销 prepaid redeemed = 销售 delivered

where received is what came in by cash, bank card, WeChat and Alipay (sales, top-ups, cards
sold) less what went back out the same ways (refunds, top-up refunds, cancelled cards), and
delivered is net sales less the cards sold in them. `problems()` checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from pos_app.domain.sale_request import TENDERS

FIGURES_FORMAT = 1  # bumped if the stored day-close JSON ever changes shape


@dataclass(frozen=True)
class TenderLine:
    """One tender over the period: what it took on sales and gave back on refunds."""

    tender: str
    sales_count: int = 0
    sales_fen: int = 0
    refunds_count: int = 0
    refunds_fen: int = 0  # positive

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen


@dataclass(frozen=True)
class TopUpLine:
    tender: str
    count: int = 0
    amount_fen: int = 0  # principal paid in
    bonus_fen: int = 0  # bonus given on top


@dataclass(frozen=True)
class TopUpRefundLine:
    tender: str  # the top-up's tender: the money goes back the way it came
    count: int = 0
    paid_back_fen: int = 0
    principal_fen: int = 0  # principal withdrawn from cards
    bonus_fen: int = 0  # unspent bonus withdrawn


@dataclass(frozen=True)
class CardCancelLine:
    """Cards cancelled (注销) over the period, by the tender their principal went back by."""

    tender: str
    count: int = 0
    paid_back_fen: int = 0


# Tenders that spend value the member paid for earlier (or was given): they take no money.
REDEMPTION_TENDERS = ("stored_value", "points", "count_card")


@dataclass(frozen=True)
class ReceivedLine:
    """收款 by one money tender: what it took on sales and top-ups, less what it gave back."""

    tender: str
    sales_fen: int = 0  # sales less refunds (cards sold in them included)
    topups_fen: int = 0
    topup_refunds_fen: int = 0  # positive
    card_cancel_fen: int = 0  # positive

    @property
    def net_fen(self) -> int:
        return self.sales_fen + self.topups_fen - self.topup_refunds_fen - self.card_cancel_fen


@dataclass(frozen=True)
class CashFigures:
    """The drawer: what should be in it, and what was counted.

    A shift's count is its own; a day's or a period's is the sum of its shifts' counts, and
    its over/short that sum against the period's expected cash.
    """

    float_fen: int = 0
    sales_fen: int = 0  # cash taken on sales, net of change
    refunds_fen: int = 0  # cash given back on refunds
    topups_fen: int = 0
    topup_refunds_fen: int = 0
    card_cancel_fen: int = 0  # principal paid out when a card was cancelled (注销)
    paid_in_count: int = 0
    paid_in_fen: int = 0
    paid_out_count: int = 0
    paid_out_fen: int = 0
    counted_fen: int | None = None
    over_short_fen: int | None = None  # counted − expected: + over, − short

    @property
    def in_fen(self) -> int:
        return self.sales_fen + self.topups_fen + self.paid_in_fen

    @property
    def out_fen(self) -> int:
        return self.refunds_fen + self.topup_refunds_fen + self.card_cancel_fen + self.paid_out_fen

    @property
    def expected_fen(self) -> int:
        return self.float_fen + self.in_fen - self.out_fen

    def counted(self, counted_fen: int) -> CashFigures:
        """These figures with a shift's cash count, and over/short against the expected."""
        return replace(
            self, counted_fen=counted_fen, over_short_fen=counted_fen - self.expected_fen
        )


@dataclass(frozen=True)
class Figures:
    """Everything a settlement report shows for the period [start, end) (UTC ISO text)."""

    start: str
    end: str
    # Sales (kind sale) and refunds (kind refund); refund amounts positive.
    sales_count: int = 0
    gross_fen: int = 0  # list prices
    discount_fen: int = 0
    rounding_fen: int = 0
    sales_fen: int = 0  # what customers owed: gross − discount − rounding
    refunds_count: int = 0
    refunds_fen: int = 0
    refunds_gross_fen: int = 0
    refunds_discount_fen: int = 0
    refunds_rounding_fen: int = 0
    member_sales_count: int = 0
    member_net_fen: int = 0  # member sales − member refunds
    non_member_sales_count: int = 0
    non_member_net_fen: int = 0
    tenders: tuple[TenderLine, ...] = ()
    topups: tuple[TopUpLine, ...] = ()
    topup_refunds: tuple[TopUpRefundLine, ...] = ()
    # Stored value spent (payments less payments refunded), by bucket.
    sv_principal_used_fen: int = 0
    sv_bonus_used_fen: int = 0
    points_issued: int = 0  # earned, referral, participation, adjusted up, returned by refunds
    points_redeemed: int = 0
    points_reversed: int = 0  # taken back when a sale that earned them was refunded
    points_expired: int = 0
    points_adjusted_out: int = 0  # adjusted down, or reset on a tier change
    coupons_issued: int = 0
    coupons_redeemed: int = 0  # used, less those a refund gave back
    coupons_restored: int = 0
    members_registered: int = 0
    # Count, time, package and trial cards sold less refunded: prepaid value taken on.
    card_sales_count: int = 0  # cards (units)
    card_sales_fen: int = 0  # what they were sold for (their lines' net)
    card_cancels: tuple[CardCancelLine, ...] = ()
    coupons_face_fen: int = 0  # the discount the coupons redeemed gave (a part of discounts)
    cash: CashFigures = field(default_factory=CashFigures)

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen

    @property
    def tenders_net_fen(self) -> int:
        return sum(t.net_fen for t in self.tenders)

    @property
    def average_ticket_fen(self) -> int:
        """客单价: the average sale's total, to the nearest fen."""
        if not self.sales_count:
            return 0
        return (2 * self.sales_fen + self.sales_count) // (2 * self.sales_count)

    @property
    def topups_count(self) -> int:
        return sum(t.count for t in self.topups)

    @property
    def topups_fen(self) -> int:
        return sum(t.amount_fen for t in self.topups)

    @property
    def topups_bonus_fen(self) -> int:
        return sum(t.bonus_fen for t in self.topups)

    @property
    def topup_refunds_fen(self) -> int:
        return sum(t.paid_back_fen for t in self.topup_refunds)

    @property
    def sv_used_fen(self) -> int:
        return self.sv_principal_used_fen + self.sv_bonus_used_fen

    @property
    def member_share_percent(self) -> int:
        """会员交易额占比, whole percent of net sales (0 when nothing was sold)."""
        if self.net_fen <= 0:
            return 0
        return (200 * self.member_net_fen + self.net_fen) // (2 * self.net_fen)

    def tender(self, name: str) -> TenderLine:
        return next((t for t in self.tenders if t.tender == name), TenderLine(name))

    # -- 收款 / 预收 / 核销 / 销售 --------------------------------------------------------

    @property
    def received(self) -> tuple[ReceivedLine, ...]:
        """收款 by money tender (every tender but the redemptions), in the till's order."""
        parts: dict[str, dict[str, int]] = {}

        def add(tender: str, name: str, fen: int) -> None:
            if tender not in REDEMPTION_TENDERS:
                part = parts.setdefault(tender, {})
                part[name] = part.get(name, 0) + fen

        for t in self.tenders:
            add(t.tender, "sales_fen", t.net_fen)
        for u in self.topups:
            add(u.tender, "topups_fen", u.amount_fen)
        for r in self.topup_refunds:
            add(r.tender, "topup_refunds_fen", r.paid_back_fen)
        for c in self.card_cancels:
            add(c.tender, "card_cancel_fen", c.paid_back_fen)
        return tuple(ReceivedLine(t, **parts[t]) for t in sorted(parts, key=tender_order))

    @property
    def received_fen(self) -> int:
        """收款合计: money in less money out, over sales, top-ups and cards."""
        return sum(line.net_fen for line in self.received)

    @property
    def card_cancel_fen(self) -> int:
        return sum(c.paid_back_fen for c in self.card_cancels)

    @property
    def prepaid_sold_fen(self) -> int:
        """预收: cards sold and top-ups' principal, less what was paid back on them."""
        return self.card_sales_fen + self.topups_fen - self.topup_refunds_fen - self.card_cancel_fen

    @property
    def redeemed_sv_fen(self) -> int:
        return self.tender("stored_value").net_fen

    @property
    def redeemed_points_fen(self) -> int:
        return self.tender("points").net_fen

    @property
    def redeemed_passes_fen(self) -> int:
        """The value of count/time card uses (the services they covered), less uses returned."""
        return self.tender("count_card").net_fen

    @property
    def redeemed_fen(self) -> int:
        """核销: prepaid value spent on goods and services (coupons are discounts, not here)."""
        return self.redeemed_sv_fen + self.redeemed_points_fen + self.redeemed_passes_fen

    @property
    def delivered_fen(self) -> int:
        """销售: goods and services handed over, at what the customers owed for them."""
        return self.net_fen - self.card_sales_fen

    def problems(self) -> list[str]:
        """Identities the figures must satisfy; an empty list when they add up."""
        found = []
        if self.tenders_net_fen != self.net_fen:
            found.append(f"tenders net {self.tenders_net_fen} != sales - refunds {self.net_fen}")
        if self.member_net_fen + self.non_member_net_fen != self.net_fen:
            found.append("member + non-member sales != net sales")
        if self.member_sales_count + self.non_member_sales_count != self.sales_count:
            found.append("member + non-member sale counts != sales count")
        if self.gross_fen - self.discount_fen - self.rounding_fen != self.sales_fen:
            found.append("gross - discount - rounding != sales")
        if self.received_fen - self.prepaid_sold_fen + self.redeemed_fen != self.delivered_fen:
            found.append(
                f"received {self.received_fen} - prepaid sold {self.prepaid_sold_fen}"
                f" + redeemed {self.redeemed_fen} != delivered {self.delivered_fen}"
            )
        cash = self.tender("cash")
        if (cash.sales_fen, cash.refunds_fen) != (self.cash.sales_fen, self.cash.refunds_fen):
            found.append("cash tender != cash in the drawer figures")
        return found

    # -- JSON (the day-close record, `--json` output) -------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """All figures, derived ones included, as JSON-ready data (amounts in fen)."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "tenders":
                value = [{**_plain(t), "net_fen": t.net_fen} for t in value]
            elif f.name in ("topups", "topup_refunds", "card_cancels"):
                value = [_plain(t) for t in value]
            elif f.name == "cash":
                value = {
                    **_plain(value),
                    "in_fen": value.in_fen,
                    "out_fen": value.out_fen,
                    "expected_fen": value.expected_fen,
                }
            data[f.name] = value
        data.update(
            net_fen=self.net_fen,
            tenders_net_fen=self.tenders_net_fen,
            average_ticket_fen=self.average_ticket_fen,
            topups_count=self.topups_count,
            topups_fen=self.topups_fen,
            topups_bonus_fen=self.topups_bonus_fen,
            topup_refunds_fen=self.topup_refunds_fen,
            sv_used_fen=self.sv_used_fen,
            member_share_percent=self.member_share_percent,
            received=[{**_plain(r), "net_fen": r.net_fen} for r in self.received],
            received_fen=self.received_fen,
            card_cancel_fen=self.card_cancel_fen,
            prepaid_sold_fen=self.prepaid_sold_fen,
            redeemed_sv_fen=self.redeemed_sv_fen,
            redeemed_points_fen=self.redeemed_points_fen,
            redeemed_passes_fen=self.redeemed_passes_fen,
            redeemed_fen=self.redeemed_fen,
            delivered_fen=self.delivered_fen,
            format=FIGURES_FORMAT,
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figures:
        """The figures `to_dict` wrote (derived values are recomputed, not read)."""
        plain = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        plain["tenders"] = tuple(_build(TenderLine, t) for t in data.get("tenders", ()))
        plain["topups"] = tuple(_build(TopUpLine, t) for t in data.get("topups", ()))
        plain["topup_refunds"] = tuple(
            _build(TopUpRefundLine, t) for t in data.get("topup_refunds", ())
        )
        plain["card_cancels"] = tuple(
            _build(CardCancelLine, t) for t in data.get("card_cancels", ())
        )
        plain["cash"] = _build(CashFigures, data.get("cash", {}))
        return cls(**plain)


def _plain(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _build(cls: Any, data: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


# -- Adding periods up ----------------------------------------------------------------------


def _add_opt(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _sum_fields(items: list[Any], cls: Any, key_name: str, key: str) -> Any:
    totals: dict[str, int] = {}
    for item in items:
        for f in fields(item):
            if f.name != key_name:
                totals[f.name] = totals.get(f.name, 0) + getattr(item, f.name)
    return cls(**{key_name: key, **totals})


def _merge_lines(groups: Iterable[tuple[Any, ...]], cls: Any) -> tuple[Any, ...]:
    by_key: dict[str, list[Any]] = {}
    for group in groups:
        for line in group:
            by_key.setdefault(line.tender, []).append(line)
    return tuple(_sum_fields(by_key[k], cls, "tender", k) for k in sorted(by_key, key=tender_order))


def tender_order(tender: str) -> tuple[int, str]:
    """Tenders in the till's order (cash first), unknown ones after, by name."""
    return (TENDERS.index(tender) if tender in TENDERS else len(TENDERS), tender)


def merge_cash(parts: Iterable[CashFigures]) -> CashFigures:
    total = CashFigures()
    for part in parts:
        counted = _add_opt(total.counted_fen, part.counted_fen)
        over_short = _add_opt(total.over_short_fen, part.over_short_fen)
        summed = {
            f.name: getattr(total, f.name) + getattr(part, f.name)
            for f in fields(CashFigures)
            if f.name not in ("counted_fen", "over_short_fen")
        }
        total = CashFigures(**summed, counted_fen=counted, over_short_fen=over_short)
    return total


def merge_figures(parts: list[Figures], start: str, end: str) -> Figures:
    """The figures of consecutive periods added up into one period [start, end)."""
    scalar = {
        f.name: sum(getattr(p, f.name) for p in parts)
        for f in fields(Figures)
        if f.name
        not in ("start", "end", "tenders", "topups", "topup_refunds", "card_cancels", "cash")
    }
    return Figures(
        start=start,
        end=end,
        tenders=_merge_lines((p.tenders for p in parts), TenderLine),
        topups=_merge_lines((p.topups for p in parts), TopUpLine),
        topup_refunds=_merge_lines((p.topup_refunds for p in parts), TopUpRefundLine),
        card_cancels=_merge_lines((p.card_cancels for p in parts), CardCancelLine),
        cash=merge_cash(p.cash for p in parts),
        **scalar,
    )
