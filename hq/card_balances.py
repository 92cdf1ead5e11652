"""`pos-hq verify`, cards: every card's stored value, till by till and over the chain.

A card's balance on a till is a projection of that till's ledger: the principal and bonus
deltas of the till's entries of the card — its mirrors (`card_synced`, what HQ told it of the
other tills) included — add up to what the till's card row says. HQ compares that sum with the
newest card row it holds from the till (the one received last; of one batch, the highest
outbox id). A card with entries that no till ever sent is missing.

The chain's balance is the sum over tills of their entries *without* mirrors, kept up by the
ingest in `card_position`: each position must equal that sum. A chain balance below zero is
not a verify failure: it is a conflict (an offline overspend), listed by `pos-hq conflicts`.
Entries are streamed card by card, so memory does not grow with the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import CardPosition, HqLedgerEntry, HqRow, Till
from pos_app.domain.entry_kinds import MIRROR_KINDS

_MIRRORS = frozenset(str(k) for k in MIRROR_KINDS)


@dataclass(frozen=True)
class CardProblem:
    card: str
    code: str  # "balance_mismatch", "position_mismatch", "card_missing"
    zh: str
    en: str


@dataclass(frozen=True)
class CardCheck:
    cards: int
    problems: tuple[CardProblem, ...]


def newest_card_rows(session: Session) -> dict[str, dict[str, tuple[int, int]]]:
    """Card id → till code → (principal_fen, bonus_fen) of the newest card row of the till."""
    rows = session.execute(
        select(Till.code, HqRow.data)
        .join(Till, Till.id == HqRow.till_id)
        .where(HqRow.table_name == "card")
        .order_by(HqRow.received_at, HqRow.outbox_id)
    )
    newest: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for till, data in rows:
        if data is None or not isinstance(data.get("id"), str):
            continue
        newest[data["id"]][till] = (
            int(data.get("principal_fen") or 0),
            int(data.get("bonus_fen") or 0),
        )
    return newest


def _positions(session: Session) -> dict[str, dict[str, tuple[int, int]]]:
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for card, till, principal, bonus in session.execute(
        select(
            CardPosition.card_id, Till.code, CardPosition.principal_fen, CardPosition.bonus_fen
        ).join(Till, Till.id == CardPosition.till_id)
    ):
        out[card][till] = (int(principal), int(bonus))
    return out


def verify_cards(session: Session) -> CardCheck:
    held = newest_card_rows(session)
    positions = _positions(session)
    problems: list[CardProblem] = []
    entries = session.execute(
        select(
            HqLedgerEntry.card_id,
            Till.code,
            HqLedgerEntry.kind,
            HqLedgerEntry.principal_delta,
            HqLedgerEntry.bonus_delta,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(HqLedgerEntry.card_id.is_not(None))
        .order_by(HqLedgerEntry.card_id, Till.code, HqLedgerEntry.seq)
        .execution_options(yield_per=5000)
    )
    seen: set[str] = set()
    for card, card_entries in groupby(entries, key=lambda row: str(row[0])):
        seen.add(card)
        local: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        own: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for _card, till, kind, d_principal, d_bonus in card_entries:
            local[till][0] += d_principal
            local[till][1] += d_bonus
            if kind not in _MIRRORS and (d_principal or d_bonus):
                own[till][0] += d_principal
                own[till][1] += d_bonus
        rows = held.get(card, {})
        if not rows:
            problems.append(_missing(card))
        for till, row in sorted(rows.items()):
            summed = local.get(till, [0, 0])
            problems.extend(_compare(card, till, (summed[0], summed[1]), row))
        problems.extend(_compare_positions(card, own, positions.get(card, {})))
    for card in sorted(set(held) - seen):
        for till, row in sorted(held[card].items()):
            problems.extend(_compare(card, till, (0, 0), row))
    return CardCheck(len(seen | set(held)), tuple(problems))


def _missing(card: str) -> CardProblem:
    return CardProblem(
        card,
        "card_missing",
        "有此卡的账目记录，但总部没有收到这张卡",
        "HQ holds ledger entries of this card but not the card itself",
    )


def _compare_positions(
    card: str, own: dict[str, list[int]], held: dict[str, tuple[int, int]]
) -> list[CardProblem]:
    problems = []
    for till in sorted(set(own) | set(held)):
        summed = tuple(own.get(till, [0, 0]))
        position = held.get(till, (0, 0))
        if summed != position:
            problems.append(
                CardProblem(
                    card,
                    "position_mismatch",
                    f"总部记下的 {till} 在此卡上的头寸（本金 {position[0]} 分，赠送 "
                    f"{position[1]} 分）与其账目之和（本金 {summed[0]} 分，"
                    f"赠送 {summed[1]} 分）不符",
                    f"HQ's position of {till} on the card (principal {position[0]} fen, bonus "
                    f"{position[1]} fen) is not the sum of its entries (principal {summed[0]} "
                    f"fen, bonus {summed[1]} fen)",
                )
            )
    return problems


def _compare(
    card: str, till: str, summed: tuple[int, int], row: tuple[int, int]
) -> list[CardProblem]:
    if row == summed:
        return []
    return [
        CardProblem(
            card,
            "balance_mismatch",
            f"{till} 的卡上余额（本金 {row[0]} 分，赠送 {row[1]} 分）与其账目之和"
            f"（本金 {summed[0]} 分，赠送 {summed[1]} 分）不符",
            f"The card's balance at {till} (principal {row[0]} fen, bonus {row[1]} fen) is not "
            f"the sum of that till's entries (principal {summed[0]} fen, bonus {summed[1]} fen)",
        )
    ]
