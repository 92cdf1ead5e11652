"""Vouchers (凭证) of top-ups, their refunds, card cancellations and replacements and cash
moves: read back from the ledger, with the card's balances after each one."""

from __future__ import annotations

import pytest

from hardware.printing.document import PrinterProfile, Rule, TextLine
from pos_app.domain.errors import NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.voucher import render_voucher
from pos_app.services import cards, shifts, stored_value
from pos_app.services.vouchers import voucher_for, voucher_print_document
from tests.conftest import StoreFixture
from tests.services.support import member_with_card

pytestmark = pytest.mark.usefixtures("till")

CARD = "88880001"


def test_a_top_up_voucher_has_what_moved_and_the_balances_after(store: StoreFixture) -> None:
    member_with_card(store, CARD)
    first = stored_value.top_up(store.ctx, store.cashier, CARD, 50_000)  # 充500送50
    second = stored_value.top_up(store.ctx, store.cashier, CARD, 10_000, "wechat", "WX42")

    v1 = voucher_for(store.ctx, store.cashier, first.entry_id)
    assert (v1.kind, v1.shift_no, v1.operator_name) == ("topup", 1, "王收银")
    assert [(x.zh, x.amount_fen) for x in v1.lines] == [
        ("充值金额（现金）", 50_000),
        ("赠送金", 5_000),
    ]
    assert (v1.principal_after_fen, v1.bonus_after_fen) == (50_000, 5_000)
    assert v1.card_no_masked == "88****01" and v1.member_name == "张三"
    assert v1.voucher_no.startswith("SH01-01-V")

    text = render_voucher(voucher_for(store.ctx, store.cashier, second.entry_id), 32)
    lines = text.splitlines()
    assert lines[1].strip() == "充值凭证"
    assert any("微信支付" in x and x.endswith("¥100.00") for x in lines)
    assert any(x.startswith("交易参考号") and x.endswith("WX42") for x in lines)
    assert any(x.startswith("卡内余额") and x.endswith("¥650.00") for x in lines)
    assert any(x.strip().startswith("本金") and x.endswith("¥600.00") for x in lines)
    assert all(len(x) <= 32 for x in lines)
    # Printed again later, it still says what the card held then, not now.
    stored_value.top_up(store.ctx, store.cashier, CARD, 10_000)
    again = voucher_for(store.ctx, store.cashier, first.entry_id, reprint=True)
    assert (again.principal_after_fen, again.bonus_after_fen) == (50_000, 5_000)
    assert "（补打）" in render_voucher(again).splitlines()[1]


def test_refund_cancel_and_replace_vouchers(store: StoreFixture) -> None:
    member_with_card(store, CARD)
    topup = stored_value.top_up(store.ctx, store.cashier, CARD, 50_000)
    back = stored_value.refund_top_up(
        store.ctx, store.cashier, topup.entry_id, store.approval(Permission.TOPUP_REFUND)
    )
    refund = voucher_for(store.ctx, store.cashier, back.entry_id)
    assert refund.kind == "topup_refund"
    assert [x.amount_fen for x in refund.lines] == [50_000, 50_000, 5_000]
    assert (refund.principal_after_fen, refund.bonus_after_fen) == (0, 0)

    stored_value.top_up(store.ctx, store.cashier, CARD, 20_000)
    moved = cards.replace_card(
        store.ctx, store.cashier, CARD, "88880002", store.approval(Permission.CARD_REPLACE)
    )
    replace = voucher_for(store.ctx, store.cashier, moved.entry_id)
    assert replace.kind == "card_replace"
    assert (replace.old_card_no_masked, replace.card_no_masked) == ("88****01", "88****02")
    assert replace.principal_after_fen == 20_000
    assert "原卡号" in render_voucher(replace)

    cancelled = cards.cancel_card(
        store.ctx, store.cashier, "88880002", store.approval(Permission.CARD_CANCEL)
    )
    cancel = voucher_for(store.ctx, store.cashier, cancelled.entry_id)
    assert cancel.kind == "card_cancel" and cancel.shift_no == 1
    assert [(x.zh, x.amount_fen) for x in cancel.lines] == [
        ("退还本金（现金）", 19_000),
        ("手续费", 1_000),
        ("作废赠送金", 0),
    ]
    assert (cancel.principal_after_fen, cancel.bonus_after_fen) == (0, 0)


def test_a_cash_move_voucher_has_its_reason_and_no_card(store: StoreFixture) -> None:
    shifts.paid_in(store.ctx, store.cashier, 5_000, "银行换零钱")
    out = shifts.paid_out(store.ctx, store.cashier, 1_550, "快递费")
    voucher = voucher_for(store.ctx, store.cashier, out.entry_id)
    assert voucher.kind == "paid_out" and not voucher.about_a_card
    text = render_voucher(voucher, 48, "en")
    assert "Paid-out voucher" in text and "Reason: 快递费" in text and "¥15.50" in text
    assert "Card balance" not in text and "Signed:" in text


def test_the_print_document_has_the_title_bold_and_rules(store: StoreFixture) -> None:
    member_with_card(store, CARD)
    topup = stored_value.top_up(store.ctx, store.cashier, CARD, 50_000)
    voucher = voucher_for(store.ctx, store.cashier, topup.entry_id)
    doc = voucher_print_document(voucher, PrinterProfile(paper_mm=58), "zh")
    first, title = doc.blocks[0], doc.blocks[1]
    assert isinstance(first, TextLine) and first.text == "上海南京路店" and first.bold
    assert isinstance(title, TextLine) and title.text == "充值凭证" and title.bold
    assert any(isinstance(b, Rule) for b in doc.blocks)
    assert any(isinstance(b, TextLine) and "￥550.00" in b.text for b in doc.blocks)


def test_only_card_and_cash_operations_have_vouchers(store: StoreFixture) -> None:
    member_with_card(store, CARD)
    opened = shifts.current_shift(store.ctx, store.cashier)
    assert opened is not None
    with pytest.raises(NotFound):
        voucher_for(store.ctx, store.cashier, opened.id)  # a shift_opened entry
    with pytest.raises(NotFound):
        voucher_for(store.ctx, store.cashier, "no-such-entry")
