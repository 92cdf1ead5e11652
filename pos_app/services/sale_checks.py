"""Sales against the ledger: the checks `verify` makes on the sale tables.

Cash, bank card, WeChat and Alipay move no balance, so their amounts live only in the sale
tables — which is what makes zeroing a sale's total or its tenders tempting. Every sale and
refund has its ledger entry (`purchase` / `purchase_refunded`, sealed in the chain) holding
the total, and, from this version on, the amount of each tender; so a sale row that
disagrees with its entry, tenders that do not add up to the total, lines that do not add up
to it either, a tender that points at the wrong ledger entry, or an entry whose sale row is
gone, are all reported.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any

_SALES_SQL = """
SELECT s.id, s.receipt_no, s.kind, s.member_id, s.gross_fen, s.discount_fen, s.rounding_fen,
       s.total_fen, e.entry_id, e.kind, e.amount_fen, e.member_id, e.payload,
       (SELECT coalesce(sum(t.amount_fen), 0) FROM sale_tender t WHERE t.sale_id = s.id),
       (SELECT coalesce(sum(l.net_fen), 0) FROM sale_line l WHERE l.sale_id = s.id),
       (SELECT coalesce(sum(l.gross_fen), 0) FROM sale_line l WHERE l.sale_id = s.id),
       (SELECT c.member_id FROM ledger_entry c
         WHERE c.kind = 'purchase' AND c.related_entry_id =
               (SELECT o.entry_id FROM sale o WHERE o.id = coalesce(s.original_sale_id, s.id)))
FROM sale s LEFT JOIN ledger_entry e ON e.entry_id = s.entry_id
"""
_TENDER_ENTRIES_SQL = """
SELECT s.receipt_no, t.tender, t.amount_fen, s.entry_id, e.kind, e.amount_fen,
       e.related_entry_id, e.payload
FROM sale_tender t JOIN sale s ON s.id = t.sale_id
LEFT JOIN ledger_entry e ON e.entry_id = t.entry_id
WHERE t.entry_id IS NOT NULL
"""
_ORPHANS_SQL = """
SELECT store_seq, entry_id, json_extract(payload, '$.receipt_no')
FROM ledger_entry
WHERE kind IN ('purchase', 'purchase_refunded')
  AND json_valid(payload) AND json_extract(payload, '$.sale_id') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM sale WHERE sale.id = json_extract(payload, '$.sale_id'))
"""
_ENTRY_KIND = {"sale": "purchase", "refund": "purchase_refunded"}
_TENDER_KINDS = {
    "stored_value": "sv_payment",
    "points": "points_redeemed",
    "count_card": "pass_used",
}


def verify_sales(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(where, message) for every sale that disagrees with its ledger entry or with itself."""
    problems: list[tuple[str, str]] = []
    recorded_tenders: dict[str, dict[str, int]] = {}
    for row in conn.execute(_SALES_SQL):
        (sale_id, receipt_no, kind, member_id, gross, discount, rounding, total,
         entry_id, entry_kind, entry_amount, entry_member, payload_text,
         tendered, lines_net, lines_gross, claimant) = row  # fmt: skip
        where = f"receipt {receipt_no}"
        if entry_id is None:
            problems.append((where, "its ledger entry is missing"))
            continue
        payload = _load(payload_text)
        sign = 1 if kind == "sale" else -1
        if _ENTRY_KIND.get(kind) != entry_kind or payload.get("sale_id") != sale_id:
            problems.append((where, f"its ledger entry {entry_id} is not this {kind}'s"))
            continue
        if entry_amount != sign * total:
            problems.append(
                (where, f"total is {total} fen but its ledger entry says {sign * entry_amount}")
            )
        # A walk-in receipt a member claimed afterwards (补积分) is returned on that member.
        if entry_member != member_id and not (member_id is None and entry_member == claimant):
            problems.append((where, "the member differs from its ledger entry's"))
        if tendered != total:
            problems.append((where, f"tenders add up to {tendered} fen, the total is {total}"))
        if lines_net != total or lines_gross != gross or gross - discount - rounding != total:
            problems.append((where, "lines, discounts and total do not add up"))
        tenders = payload.get("tenders")
        if isinstance(tenders, dict):
            recorded_tenders[sale_id] = tenders
    if recorded_tenders:
        problems += _compare_tender_summaries(conn, recorded_tenders)
    problems += _check_tender_entries(conn)
    for seq, entry_id, receipt_no in conn.execute(_ORPHANS_SQL):
        problems.append((f"#{seq} {entry_id}", f"the sale row of receipt {receipt_no} is missing"))
    return problems


def _compare_tender_summaries(
    conn: sqlite3.Connection, recorded: dict[str, dict[str, int]]
) -> list[tuple[str, str]]:
    """Tender by tender against the amounts the sale's ledger entry recorded."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    receipts: dict[str, str] = {}
    for sale_id, receipt_no in conn.execute("SELECT id, receipt_no FROM sale"):
        if sale_id in recorded:
            receipts[sale_id] = receipt_no
    for sale_id, tender, amount in conn.execute(
        "SELECT sale_id, tender, amount_fen FROM sale_tender"
    ):
        if sale_id in recorded:
            found[sale_id][tender] += amount
    problems = []
    for sale_id, tenders in recorded.items():
        have = {t: a for t, a in found.get(sale_id, {}).items() if a}
        want = {t: a for t, a in tenders.items() if a}
        if have != want:
            problems.append(
                (
                    f"receipt {receipts.get(sale_id, sale_id)}",
                    f"tenders {_text(have)} differ from its ledger entry's {_text(want)}",
                )
            )
    return problems


def _check_tender_entries(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    problems = []
    for (
        receipt_no,
        tender,
        amount,
        sale_entry,
        kind,
        entry_amount,
        related,
        payload,
    ) in conn.execute(_TENDER_ENTRIES_SQL):
        where = f"receipt {receipt_no}"
        if kind is None:
            problems.append((where, f"the {tender} tender's ledger entry is missing"))
        elif kind != _TENDER_KINDS.get(tender) or related != sale_entry:
            problems.append((where, f"the {tender} tender points at another ledger entry"))
        elif tender == "stored_value" and entry_amount != amount:
            problems.append(
                (where, f"stored value paid {amount} fen but its ledger entry says {entry_amount}")
            )
        elif tender == "points" and _load(payload).get("amount_fen") != amount:
            problems.append((where, f"points paid {amount} fen, its ledger entry says otherwise"))
    return problems


def _text(tenders: dict[str, int]) -> str:
    return ", ".join(f"{t} {a}" for t, a in sorted(tenders.items())) or "none"


def _load(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
