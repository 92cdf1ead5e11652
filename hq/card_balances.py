"""`pos-hq verify`, cards: every card's stored value over all tills.

A card's balance is a projection of the ledger: the principal and bonus deltas of all its
entries, from every till, add up to what the card row says. HQ compares that sum with the
newest card row it holds (the one received last; of one batch, the highest outbox id), and
replays the card's entries in business-time order (ties by till and seq) to find the first
moment its principal or bonus went below zero. Entries are streamed card by card, so memory
does not grow with the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import HqLedgerEntry, HqRow, Till


@dataclass(frozen=True)
class CardProblem:
    card: str
    code: str  # "balance_mismatch", "negative_balance", "card_missing"
    zh: str
    en: str


@dataclass(frozen=True)
class CardCheck:
    cards: int
    problems: tuple[CardProblem, ...]


def newest_card_rows(session: Session) -> dict[str, tuple[int, int]]:
    """Card id → (principal_fen, bonus_fen) of the newest card row HQ holds, any till."""
    rows = session.execute(
        select(HqRow.row_key, HqRow.data)
        .where(HqRow.table_name == "card")
        .order_by(HqRow.received_at, HqRow.outbox_id)
    )
    newest: dict[str, tuple[int, int]] = {}
    for _key, data in rows:
        if data is None or not isinstance(data.get("id"), str):
            continue
        newest[data["id"]] = (int(data.get("principal_fen") or 0), int(data.get("bonus_fen") or 0))
    return newest


def verify_cards(session: Session) -> CardCheck:
    held = newest_card_rows(session)
    problems: list[CardProblem] = []
    entries = session.execute(
        select(
            HqLedgerEntry.card_id,
            HqLedgerEntry.principal_delta,
            HqLedgerEntry.bonus_delta,
            HqLedgerEntry.business_time,
            Till.code,
            HqLedgerEntry.seq,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(HqLedgerEntry.card_id.is_not(None))
        .order_by(HqLedgerEntry.card_id, HqLedgerEntry.business_time, Till.code, HqLedgerEntry.seq)
        .execution_options(yield_per=5000)
    )
    seen: set[str] = set()
    for card, card_entries in groupby(entries, key=lambda row: str(row[0])):
        seen.add(card)
        principal = bonus = 0
        negative_reported = False
        for _card, d_principal, d_bonus, _time, till, seq in card_entries:
            principal += d_principal
            bonus += d_bonus
            if (principal < 0 or bonus < 0) and not negative_reported:
                negative_reported = True
                problems.append(
                    CardProblem(
                        card,
                        "negative_balance",
                        f"储值卡余额在 {till} 第 {seq} 条记录后为负（本金 {principal} 分，"
                        f"赠送 {bonus} 分）",
                        f"The card's balance went negative after {till} entry {seq} "
                        f"(principal {principal} fen, bonus {bonus} fen)",
                    )
                )
        problems.extend(_compare(card, (principal, bonus), held.get(card)))
    for card in sorted(set(held) - seen):
        problems.extend(_compare(card, (0, 0), held[card]))
    return CardCheck(len(seen | set(held)), tuple(problems))


def _compare(card: str, summed: tuple[int, int], row: tuple[int, int] | None) -> list[CardProblem]:
    if row is None:
        return [
            CardProblem(
                card,
                "card_missing",
                "有此卡的账目记录，但总部没有收到这张卡",
                "HQ holds ledger entries of this card but not the card itself",
            )
        ]
    if row == summed:
        return []
    return [
        CardProblem(
            card,
            "balance_mismatch",
            f"卡上余额（本金 {row[0]} 分，赠送 {row[1]} 分）与各收银机账目之和"
            f"（本金 {summed[0]} 分，赠送 {summed[1]} 分）不符",
            f"The card's balance (principal {row[0]} fen, bonus {row[1]} fen) is not the sum "
            f"of its entries over all tills (principal {summed[0]} fen, bonus {summed[1]} fen)",
        )
    ]
