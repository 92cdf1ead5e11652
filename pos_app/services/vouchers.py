"""The voucher (凭证) of a top-up, top-up refund, card cancellation or replacement, read back
from its ledger entry (PRODUCT §5, §9).

Everything on it comes from the ledger: what moved from the entry, the card's balances after
it by adding up the card's entries up to that one. So a voucher printed again next month says
exactly what the first print said, whatever the card did since.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, Operator
from hardware.printing.document import Block, PrintDocument, PrinterProfile, Rule, TextLine
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import TENDER_NAMES
from pos_app.domain.text_width import display_width, wrap
from pos_app.domain.voucher import Voucher, VoucherLine, render_voucher, voucher_title
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.receipt_printing import PRINTER_CURRENCY

VOUCHER_KINDS = {
    EntryKind.TOPUP.value: "topup",
    EntryKind.TOPUP_REFUNDED.value: "topup_refund",
    EntryKind.CARD_CANCELLED.value: "card_cancel",
    EntryKind.CARD_REPLACED_IN.value: "card_replace",
    EntryKind.CASH_PAID_IN.value: "paid_in",
    EntryKind.CASH_PAID_OUT.value: "paid_out",
}


def _tender(tender: str | None) -> tuple[str, str]:
    return TENDER_NAMES.get(tender or "cash", (tender or "", tender or ""))


def _lines(entry: LedgerEntry, payload: dict[str, object]) -> tuple[VoucherLine, ...]:
    zh, en = _tender(entry.tender)
    if entry.kind == EntryKind.TOPUP:
        return (
            VoucherLine(f"充值金额（{zh}）", f"Topped up ({en})", entry.amount_fen),
            VoucherLine("赠送金", "Bonus given", entry.bonus_delta),
        )
    if entry.kind == EntryKind.TOPUP_REFUNDED:
        return (
            VoucherLine(f"退还金额（{zh}）", f"Paid back ({en})", entry.amount_fen),
            VoucherLine("扣回本金", "Principal taken back", -entry.principal_delta),
            VoucherLine("扣回赠送金", "Bonus taken back", -entry.bonus_delta),
        )
    if entry.kind == EntryKind.CASH_PAID_IN:
        return (VoucherLine("放入钱箱（现金）", "Put into the drawer", entry.amount_fen),)
    if entry.kind == EntryKind.CASH_PAID_OUT:
        return (VoucherLine("从钱箱取出（现金）", "Taken out of the drawer", entry.amount_fen),)
    if entry.kind == EntryKind.CARD_CANCELLED:
        return (
            VoucherLine(f"退还本金（{zh}）", f"Principal paid back ({en})", entry.amount_fen),
            VoucherLine("手续费", "Cancellation fee", int(str(payload.get("fee_fen", 0)))),
            VoucherLine(
                "作废赠送金",
                "Bonus forfeited",
                int(str(payload.get("forfeited_bonus_fen", 0))),
            ),
        )
    return (  # a replacement: what moved onto the new card
        VoucherLine("转入本金", "Principal moved", entry.principal_delta),
        VoucherLine("转入赠送金", "Bonus moved", entry.bonus_delta),
    )


def _balances_after(s: Session, entry: LedgerEntry) -> tuple[int, int]:
    if entry.card_id is None:
        return 0, 0
    principal, bonus = s.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.principal_delta), 0),
            func.coalesce(func.sum(LedgerEntry.bonus_delta), 0),
        ).where(LedgerEntry.card_id == entry.card_id, LedgerEntry.store_seq <= entry.store_seq)
    ).one()
    return int(principal), int(bonus)


def _card_no(s: Session, card_id: object) -> str:
    card = s.get(Card, str(card_id)) if card_id else None
    return mask_card_no(card.card_no) if card else "-"


def voucher_for(
    ctx: StoreContext, actor: Actor, entry_id: str, *, reprint: bool = False
) -> Voucher:
    """The voucher of the operation recorded as `entry_id` (a top-up, its refund, a card
    cancellation, the new card's entry of a replacement, or cash paid in or out)."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_SHIFT)
        entry = s.get(LedgerEntry, entry_id)
        kind = VOUCHER_KINDS.get(entry.kind) if entry else None
        if entry is None or kind is None:
            raise NotFound(
                f"没有这笔充值或卡操作：{entry_id}", f"No top-up or card operation {entry_id}"
            )
        payload = json.loads(entry.payload or "{}")
        member = s.get(Member, entry.member_id) if entry.member_id else None
        operator = s.get(Operator, entry.operator_id)
        principal, bonus = _balances_after(s, entry)
        moment = datetime.fromisoformat(entry.business_time).astimezone(ctx.tz)
        shift_no = payload.get("shift_no")
        reference = payload.get("reference")
        return Voucher(
            kind=kind,
            store_name=ctx.store.name,
            # The till's own sequence: named by the till, so two tills never print one
            # number (an entry from before tills had ids keeps the number it was given).
            voucher_no=f"{entry.till_id or ctx.store.code}-V{entry.store_seq:07d}",
            business_time=moment.strftime("%Y-%m-%d %H:%M"),
            operator_name=operator.name if operator else entry.operator_id,
            shift_no=int(shift_no) if isinstance(shift_no, int) else None,
            member_name=member.name if member else "",
            member_no=member.member_no if member else "",
            card_no_masked=_card_no(s, entry.card_id) if entry.card_id else "",
            lines=_lines(entry, payload),
            principal_after_fen=principal,
            bonus_after_fen=bonus,
            old_card_no_masked=(
                _card_no(s, payload.get("from_card_id")) if kind == "card_replace" else None
            ),
            reference=str(reference) if reference else None,
            reason=str(payload["reason"]) if payload.get("reason") else None,
            reprint=reprint,
        )


def voucher_print_document(
    voucher: Voucher, profile: PrinterProfile, lang: str = "zh"
) -> PrintDocument:
    """The voucher as print blocks for `profile`'s paper: the store name large when it fits,
    the title in bold, then the text of `render_voucher` with the full-width ￥ and rules."""
    columns = profile.columns
    text = render_voucher(voucher, columns, lang, currency=PRINTER_CURRENCY)
    lines = text.rstrip("\n").split("\n")
    # render_voucher starts with the store name, then the title (with 补打 on a reprint).
    name_count = len(wrap(voucher.store_name.strip() or " ", columns))
    title = lines[name_count].strip() or voucher_title(voucher.kind, lang)
    skip = name_count + 1
    big = display_width(voucher.store_name) * 2 <= columns
    blocks: list[Block] = [
        TextLine(voucher.store_name.strip(), align="center", bold=True, double=big),
        TextLine(title, align="center", bold=True),
    ]
    for line in lines[skip:]:
        stripped = line.strip()
        if stripped and len(set(stripped)) == 1 and stripped[0] in "-=" and len(line) == columns:
            blocks.append(Rule(stripped[0]))
        else:
            blocks.append(TextLine(line))
    return PrintDocument(blocks=tuple(blocks), title=voucher.voucher_no)
