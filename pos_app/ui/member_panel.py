"""The member panel of the checkout screen: who is at the till once a card is swiped, tapped
or scanned, or a mobile is typed — name, tier, masked mobile, stored value (principal and
bonus), points, coupons to tick, count/time/package cards, and the alerts the cashier must
see (birthday today, a lost or frozen card, a locked PIN, a dormant member).

Also the short list to pick from when the last four digits of a mobile match several members.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.card_lifecycle import STATE_NAMES, CardState, mask_card_no
from pos_app.domain.money import format_fen
from pos_app.services.member_panel import DANGER, INFO, MemberPanel
from pos_app.services.members import MemberHit
from pos_app.ui.translations import fill

COUPON_ROWS = 3  # coupons the panel lists before its list scrolls
ALERT_STYLES = {
    DANGER: "background: #fde2e1; color: #a61b1b; border: 1px solid #d64545;",
    "warning": "background: #fff4d6; color: #7a5200; border: 1px solid #d69e2e;",
    INFO: "background: #e3f0ff; color: #0b4fb3; border: 1px solid #1f6feb;",
}


class MemberPanelView(QFrame):
    """The right-hand panel: the member at the till, or how to identify one."""

    sig_coupons_changed = Signal(object)
    """The coupons ticked for this sale changed (a tuple of coupon codes)."""

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.panel: MemberPanel | None = None
        self.setObjectName("memberPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#memberPanel { background: #fbfcfd; }")

        self.empty_label = QLabel(
            self.tr("Tap, swipe or scan a member card — or type a mobile number"), self
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setStyleSheet("font-size: 14pt; padding: 24px;")

        self.details = QWidget(self)
        self.name_label = QLabel(self.details)
        self.name_label.setProperty("role", "title")
        self.tier_label = QLabel(self.details)
        self.tier_label.setStyleSheet(
            "background: #fff4d6; color: #7a5200; border-radius: 4px; padding: 2px 8px;"
            " font-weight: bold;"
        )
        self.mobile_label = QLabel(self.details)
        self.member_no_label = QLabel(self.details)
        self.member_no_label.setProperty("role", "muted")
        self.card_label = QLabel(self.details)
        self.stored_value_label = QLabel(self.details)
        self.stored_value_label.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.balance_detail_label = QLabel(self.details)
        self.balance_detail_label.setProperty("role", "muted")
        self.points_label = QLabel(self.details)
        self.points_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.alerts_box = QVBoxLayout()
        self.alerts_box.setSpacing(4)
        self.alert_labels: list[QLabel] = []
        self.cannot_pay_label = QLabel(self.details)
        self.cannot_pay_label.setWordWrap(True)
        self.cannot_pay_label.setStyleSheet("color: #a61b1b; font-weight: bold;")
        self.coupons_title = QLabel(self.details)
        self.coupon_list = QListWidget(self.details)
        self.coupon_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.coupon_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.coupon_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.coupon_list.itemChanged.connect(self._on_coupon_ticked)
        self.passes_title = QLabel(self.tr("Service cards"), self.details)
        self.passes_label = QLabel(self.details)
        self.passes_label.setWordWrap(True)

        # The principal/bonus split wraps under the balance on a narrow (1024 px) screen
        # rather than running into the panel's edge.
        self.balance_detail_label.setWordWrap(True)
        for label in (self.mobile_label, self.member_no_label, self.card_label):
            label.setWordWrap(True)

        head = QHBoxLayout()
        head.addWidget(self.name_label)
        head.addWidget(self.tier_label)
        head.addStretch(1)
        ids = QHBoxLayout()  # one line for both: the panel shares 768 px with the buttons
        ids.addWidget(self.mobile_label)
        ids.addWidget(self.member_no_label, 1)
        money = QGridLayout()
        money.setVerticalSpacing(2)
        stored_title = QLabel(self.tr("Stored value"), self.details)
        points_title = QLabel(self.tr("Points"), self.details)
        money.addWidget(stored_title, 0, 0, Qt.AlignmentFlag.AlignVCenter)
        money.addWidget(self.stored_value_label, 0, 1)
        money.addWidget(self.balance_detail_label, 1, 1)
        money.addWidget(points_title, 2, 0, Qt.AlignmentFlag.AlignVCenter)
        money.addWidget(self.points_label, 2, 1)
        money.setColumnStretch(1, 1)
        inner = QVBoxLayout(self.details)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(4)
        inner.addLayout(head)
        inner.addLayout(ids)
        inner.addWidget(self.card_label)
        inner.addLayout(self.alerts_box)
        inner.addWidget(self.cannot_pay_label)
        inner.addLayout(money)
        inner.addWidget(self.coupons_title)
        inner.addWidget(self.coupon_list)
        inner.addWidget(self.passes_title)
        inner.addWidget(self.passes_label)
        inner.addStretch(1)

        # A member with alerts, coupons and service cards can need more height than a 768 px
        # screen leaves the panel: it scrolls then, instead of squeezing the labels into
        # each other (the balance over its principal/bonus line, one coupon row).
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self.details)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.viewport().setAutoFillBackground(False)
        self.details.setAutoFillBackground(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.scroll, 1)
        self.clear()

    # -- showing -----------------------------------------------------------------------------

    def clear(self) -> None:
        """No member at the till: say how to identify one."""
        self.panel = None
        self.coupon_list.blockSignals(True)
        self.coupon_list.clear()
        self.coupon_list.blockSignals(False)
        self.scroll.hide()
        self.empty_label.show()

    def show_panel(self, panel: MemberPanel, ticked: tuple[str, ...] = ()) -> None:
        """Fill the panel with a member (the coupons in `ticked` start ticked)."""
        self.panel = panel
        member = panel.member
        self.name_label.setText(member.name)
        self.tier_label.setText(panel.tier_text(self.lang))
        self.mobile_label.setText(fill(self.tr("Mobile %1"), member.mobile))
        self.member_no_label.setText(fill(self.tr("Member no. %1"), member.member_no))
        card = panel.card
        if card is None:
            self.card_label.setText(self.tr("No card"))
            self.stored_value_label.setText(format_fen(0))
            self.balance_detail_label.setText("")
        else:
            zh_state, en_state = STATE_NAMES[CardState(card.state)]
            state = en_state if self.lang == "en" else zh_state
            self.card_label.setText(
                fill(self.tr("Card %1 (%2)"), mask_card_no(card.card_no), state)
            )
            self.card_label.setStyleSheet(
                "" if panel.card_can_pay else "color: #a61b1b; font-weight: bold;"
            )
            self.stored_value_label.setText(format_fen(card.stored_value_fen))
            self.balance_detail_label.setText(
                fill(
                    self.tr("principal %1 + bonus %2"),
                    format_fen(card.principal_fen),
                    format_fen(card.bonus_fen),
                )
            )
        self.points_label.setText(str(member.points))
        self._show_alerts(panel)
        self._show_coupons(panel, ticked)
        passes = [p.text(self.lang) for p in panel.passes]
        self.passes_title.setVisible(bool(passes))
        self.passes_label.setVisible(bool(passes))
        self.passes_label.setText("\n".join(passes))
        self.empty_label.hide()
        self.scroll.show()

    def _show_alerts(self, panel: MemberPanel) -> None:
        for label in self.alert_labels:
            self.alerts_box.removeWidget(label)
            label.deleteLater()
        self.alert_labels = []
        for alert in panel.alerts:
            label = QLabel(alert.text(self.lang), self.details)
            label.setWordWrap(True)
            label.setProperty("alert", alert.code)
            label.setStyleSheet(
                ALERT_STYLES.get(alert.level, "") + " border-radius: 4px; padding: 4px 8px;"
                " font-weight: bold;"
            )
            self.alerts_box.addWidget(label)
            self.alert_labels.append(label)
        if not panel.presented_card_ok:
            self.cannot_pay_label.setText(
                self.tr("This card cannot be used for this sale. F11 takes the member off it.")
            )
            self.cannot_pay_label.show()
        else:
            self.cannot_pay_label.hide()

    def _show_coupons(self, panel: MemberPanel, ticked: tuple[str, ...]) -> None:
        self.coupon_list.blockSignals(True)
        self.coupon_list.clear()
        for n, coupon in enumerate(panel.coupons, start=1):
            value = coupon.value_en if self.lang == "en" else coupon.value_zh
            text = fill(self.tr("%1 · %2 · until %3"), coupon.name, value, coupon.valid_to)
            item = QListWidgetItem(f"{n}. {text}" if n <= 9 else text)
            item.setData(Qt.ItemDataRole.UserRole, coupon.code)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if coupon.code in ticked else Qt.CheckState.Unchecked
            )
            item.setToolTip(coupon.code)
            self.coupon_list.addItem(item)
        self.coupon_list.blockSignals(False)
        count = len(panel.coupons)
        title = self.tr("Coupons: %1 (tick, or Ctrl+number)")
        self.coupons_title.setText(fill(title, count) if count else self.tr("No coupons"))
        self.coupon_list.setVisible(bool(count))
        # Up to COUPON_ROWS rows show without scrolling the list; more scroll inside it.
        rows = min(count, COUPON_ROWS)
        if rows:
            frame = 2 * self.coupon_list.frameWidth()
            height = sum(self.coupon_list.sizeHintForRow(i) for i in range(rows)) + frame
            self.coupon_list.setFixedHeight(height)

    # -- coupons -----------------------------------------------------------------------------

    def ticked_coupons(self) -> tuple[str, ...]:
        """The codes of the coupons ticked for this sale."""
        codes = []
        for i in range(self.coupon_list.count()):
            item = self.coupon_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                codes.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return tuple(codes)

    def set_ticked(self, codes: tuple[str, ...]) -> None:
        """Tick exactly these coupons (without announcing it)."""
        self.coupon_list.blockSignals(True)
        for i in range(self.coupon_list.count()):
            item = self.coupon_list.item(i)
            code = str(item.data(Qt.ItemDataRole.UserRole))
            item.setCheckState(Qt.CheckState.Checked if code in codes else Qt.CheckState.Unchecked)
        self.coupon_list.blockSignals(False)

    def toggle_coupon(self, index: int) -> bool:
        """Tick or untick the coupon at `index` (Ctrl+1 … Ctrl+9); False if there is none."""
        item = self.coupon_list.item(index)
        if item is None:
            return False
        checked = item.checkState() == Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
        return True

    def _on_coupon_ticked(self, _item: QListWidgetItem) -> None:
        self.sig_coupons_changed.emit(self.ticked_coupons())


class MemberPickDialog(QDialog):
    """Several members' mobiles end in the digits typed: pick one (Up/Down, Enter)."""

    sig_picked = Signal(str)
    """A member was picked (their member number); the dialog has closed."""

    def __init__(self, digits: str, hits: list[MemberHit], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hits = hits
        self._picked = False
        self.setWindowTitle(self.tr("Pick the member"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(480)
        title = QLabel(fill(self.tr("Mobiles ending in %1"), digits), self)
        title.setProperty("role", "title")
        self.list = QListWidget(self)
        for hit in hits:
            item = QListWidgetItem(f"{hit.name}    {hit.mobile}    {hit.member_no}")
            item.setData(Qt.ItemDataRole.UserRole, hit.member_no)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.pick())
        pick = QPushButton(self.tr("Choose (Enter)"), self)
        pick.setProperty("primary", True)
        pick.setAutoDefault(False)
        pick.clicked.connect(self.pick)
        cancel = QPushButton(self.tr("Cancel (Esc)"), self)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(pick)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.list.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.pick()
            return
        super().keyPressEvent(event)

    def pick(self) -> None:
        """Take the highlighted member."""
        item = self.list.currentItem()
        if item is None or self._picked:
            return  # Enter reaches both the list (activated) and the dialog: pick once
        self._picked = True
        member_no = str(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
        self.sig_picked.emit(member_no)
