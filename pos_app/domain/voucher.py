"""Vouchers (凭证): the slip a till prints when money or stored value moves without a sale.

A top-up (充值凭证), a top-up refund (退充值凭证), a card cancellation with its refund
(退卡凭证) and a card replacement (换卡凭证) each hand the member a slip with what moved and the
card's balances after it, and keep the store's copy with the member's signature. Cash paid
into or out of the drawer (收入/支出凭证) gets one too, with its reason, for the cashier's
count. The voucher is built from the operation's ledger entry (`pos_app.services.vouchers`),
so it can be printed again at any time and always says the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.domain.money import format_fen
from pos_app.domain.text_width import display_width, fit, pad_left, wrap

TITLES: dict[str, tuple[str, str]] = {
    "topup": ("充值凭证", "Top-up voucher"),
    "topup_refund": ("退充值凭证", "Top-up refund voucher"),
    "card_cancel": ("退卡凭证", "Card cancellation voucher"),
    "card_replace": ("换卡凭证", "Card replacement voucher"),
    "paid_in": ("收入凭证", "Paid-in voucher"),
    "paid_out": ("支出凭证", "Paid-out voucher"),
}

_LABELS: dict[str, tuple[str, str]] = {
    "voucher_no": ("凭证号", "Voucher"),
    "time": ("时间", "Time"),
    "operator": ("收银员", "Cashier"),
    "shift": ("第 {no} 班", "shift {no}"),
    "member": ("会员", "Member"),
    "card": ("卡号", "Card"),
    "old_card": ("原卡号", "Old card"),
    "new_card": ("新卡号", "New card"),
    "balance": ("卡内余额", "Card balance"),
    "principal": ("本金", "Principal"),
    "bonus": ("赠送金", "Bonus"),
    "reference": ("交易参考号", "Reference"),
    "reason": ("事由", "Reason"),
    "signature": ("顾客签名：", "Member's signature:"),
    "cash_signature": ("经手人签名：", "Signed:"),
    "reprint": ("补打", "REPRINT"),
}


@dataclass(frozen=True)
class VoucherLine:
    """One amount on the voucher: what moved, in both languages."""

    zh: str
    en: str
    amount_fen: int


@dataclass(frozen=True)
class Voucher:
    kind: str  # a key of TITLES
    store_name: str
    voucher_no: str
    business_time: str  # local time as shown, "2026-03-02 10:00"
    operator_name: str
    shift_no: int | None
    member_name: str
    member_no: str
    card_no_masked: str
    lines: tuple[VoucherLine, ...]
    principal_after_fen: int
    bonus_after_fen: int
    old_card_no_masked: str | None = None  # a replacement: the card the balances left
    reference: str | None = None
    reason: str | None = None  # cash paid in or out: why
    reprint: bool = False

    @property
    def about_a_card(self) -> bool:
        return bool(self.card_no_masked)

    @property
    def balance_after_fen(self) -> int:
        return self.principal_after_fen + self.bonus_after_fen


def voucher_title(kind: str, lang: str) -> str:
    zh, en = TITLES.get(kind, (kind, kind))
    return en if lang.startswith("en") else zh


def _label(key: str, lang: str, **values: object) -> str:
    zh, en = _LABELS[key]
    return (en if lang.startswith("en") else zh).format(**values)


def render_voucher(voucher: Voucher, width: int = 48, lang: str = "zh", currency: str = "¥") -> str:
    """The voucher as `width` columns of text: store and title centred, who and when, what
    moved, the balances after it, and a line for the member's signature."""
    en = lang.startswith("en")
    out: list[str] = []

    def centred(text: str) -> None:
        for part in wrap(text, width):
            room = width - display_width(part)
            out.append(" " * (room // 2) + part)

    def pair(label: str, value: str, indent: str = "") -> None:
        room = width - display_width(indent) - display_width(value) - 1
        if room < 4:
            out.extend(indent + line for line in wrap(label, width - len(indent)))
            out.append(pad_left(value, width))
            return
        label = fit(label, room)
        out.append(indent + label + pad_left(value, width - display_width(indent + label)))

    def money(fen: int) -> str:
        return format_fen(fen).replace("¥", currency)

    centred(voucher.store_name.strip() or " ")
    title = voucher_title(voucher.kind, lang)
    centred(f"{title}（{_label('reprint', lang)}）" if voucher.reprint and not en else title)
    if voucher.reprint and en:
        centred(f"*** {_label('reprint', lang)} ***")
    out.append("-" * width)
    pair(_label("voucher_no", lang), voucher.voucher_no)
    pair(_label("time", lang), voucher.business_time)
    shift = f"  {_label('shift', lang, no=voucher.shift_no)}" if voucher.shift_no else ""
    pair(_label("operator", lang), voucher.operator_name + shift)
    if voucher.about_a_card:
        pair(_label("member", lang), f"{voucher.member_name} {voucher.member_no}".strip())
        if voucher.old_card_no_masked:
            pair(_label("old_card", lang), voucher.old_card_no_masked)
            pair(_label("new_card", lang), voucher.card_no_masked)
        else:
            pair(_label("card", lang), voucher.card_no_masked)
    out.append("-" * width)
    for line in voucher.lines:
        pair(line.en if en else line.zh, money(line.amount_fen))
    if voucher.reference:
        pair(_label("reference", lang), voucher.reference)
    if voucher.reason:
        out.extend(wrap(f"{_label('reason', lang)}: {voucher.reason}", width))
    out.append("-" * width)
    if voucher.about_a_card:
        pair(_label("balance", lang), money(voucher.balance_after_fen))
        pair(_label("principal", lang), money(voucher.principal_after_fen), "  ")
        pair(_label("bonus", lang), money(voucher.bonus_after_fen), "  ")
        out.append("-" * width)
    out.append(_label("signature" if voucher.about_a_card else "cash_signature", lang))
    out.append("")
    out.append("=" * width)
    return "\n".join(line.rstrip() for line in out) + "\n"
