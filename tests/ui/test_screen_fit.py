"""The till's screens at the screen sizes it supports (1024×768 and 1366×768): every label
gets the room its text needs and no two overlap — the member panel with a big balance,
alerts and three coupons, and the shift screen's header (F3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

from pos_app.services import coupons, shifts
from pos_app.services.member_panel import INFO, WARNING, Alert
from pos_app.services.stored_value import top_up
from tests.ui.conftest import MEMBER_CARD, Till
from tests.ui.test_checkout import VEG8

SCREENS = [(1024, 768), (1366, 768)]


def _fits(label: QLabel) -> bool:
    """Whether a label shows all of its text in the room the layout gave it."""
    hint = label.sizeHint()
    if label.wordWrap():
        return label.height() >= label.heightForWidth(label.width())
    return label.width() >= hint.width() and label.height() >= hint.height()


def _shown_labels(root: QWidget) -> list[QLabel]:
    return [w for w in root.findChildren(QLabel) if w.isVisible() and w.text()]


def _overlaps(root: QWidget, widgets: list[QWidget]) -> list[tuple[str, str]]:
    boxes = [(w, QRect(w.mapTo(root, w.rect().topLeft()), w.size())) for w in widgets]
    return [
        (a.text() if isinstance(a, QLabel) else a.objectName(), b.text())  # type: ignore[union-attr]
        for i, (a, ra) in enumerate(boxes)
        for b, rb in boxes[i + 1 :]
        if ra.intersects(rb) and not a.isAncestorOf(b) and not b.isAncestorOf(a)
    ]


def _at_size(till: Till, size: tuple[int, int]) -> None:
    till.window.resize(*size)
    till.qtbot.waitUntil(lambda: (till.window.width(), till.window.height()) == size)
    till.qtbot.wait(50)  # the layouts settle


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("size", SCREENS)
def test_the_member_panel_fits_with_a_big_balance_alerts_and_coupons(
    make_till: Callable[..., Till], size: tuple[int, int], language: str
) -> None:
    till = make_till(language=language)
    ctx = till.store.ctx
    shifts.open_shift(ctx, till.store.cashier, 50_000)
    till.sign_in_as("cashier")
    coupons.add_template(ctx, till.store.manager, VEG8)
    top_up(ctx, till.store.cashier, MEMBER_CARD, 1_888_800, "cash")  # a five-figure balance
    view = till.window.checkout_screen.member_view
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: view.panel is not None)
    coupons.issue_coupons(ctx, till.store.manager, "VEG8", view.panel.member.member_no, count=3)
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: view.coupon_list.count() == 3)
    alerts = (
        Alert("birthday", INFO, "今天是会员生日", "The member's birthday is today"),
        Alert("dormant", WARNING, "会员已 120 天未消费", "No purchase for 120 days"),
    )
    view.show_panel(dataclasses.replace(view.panel, alerts=view.panel.alerts + alerts))
    _at_size(till, size)

    assert view.stored_value_label.text() == "¥19588.00"
    labels = _shown_labels(view)
    assert view.balance_detail_label in labels and len(view.alert_labels) >= 2
    assert [lab.text() for lab in labels if not _fits(lab)] == []
    assert _overlaps(view, [*labels, view.coupon_list]) == []
    # All three coupons show as rows of their own, none cut off.
    rows = view.coupon_list.viewport().height() // view.coupon_list.sizeHintForRow(0)
    assert rows >= 3


@pytest.mark.parametrize("size", SCREENS)
def test_the_shift_screen_header_fits(till: Till, size: tuple[int, int]) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 50_000)
    till.sign_in_as("cashier")
    till.qtbot.keyClick(till.window, Qt.Key.Key_F3)
    screen = till.window.shift_screen
    _at_size(till, size)
    assert "¥500.00" in screen.shift_label.text()
    labels = _shown_labels(screen)
    assert screen.shift_label in labels
    assert [lab.text() for lab in labels if not _fits(lab)] == []
    assert _overlaps(screen, labels) == []
