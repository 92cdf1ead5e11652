"""The member desk (会员, F2): find a member, see their profile, cards, coupons and service
cards, and do what members ask for at the counter — register (F5), edit (F6), top up (F7),
report a card lost or found (F8), freeze (F9), replace (F10), cancel (F11), reset the PIN
(Ctrl+P), issue another card (Ctrl+N).

Searching takes the last 4 digits of the mobile, the full mobile, the member number, a card
number or the start of a name; a card tapped or swiped here opens its member. The card
actions act on the card selected in the cards table. The services decide what is allowed;
the desk shows their answers and refreshes the member after every change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor
from pos_app.services.cards import (
    CancelResult,
    ReplaceResult,
    freeze_card,
    mark_card_found,
    report_card_lost,
    unfreeze_card,
)
from pos_app.services.context import StoreContext
from pos_app.services.coupons import CouponView, member_coupons
from pos_app.services.members import (
    CardView,
    MemberHit,
    MemberView,
    find_members,
    lookup_by_card,
    show_member,
)
from pos_app.services.passes import PassView, member_passes
from pos_app.services.rules import show_rules
from pos_app.services.stored_value import TopUpResult
from pos_app.ui.approval_dialog import run_with_approval
from pos_app.ui.card_dialogs import (
    CancelCardDialog,
    ConfirmCardDialog,
    IssueCardDialog,
    ReplaceCardDialog,
    ResetPinDialog,
    TopUpDialog,
    media_text,
    money,
    pin_text,
    state_text,
    tender_text,
)
from pos_app.ui.member_dialogs import (
    EditMemberDialog,
    RegisterMemberDialog,
    Registration,
    gender_text,
)
from pos_app.ui.member_history_view import open_member_history
from pos_app.ui.operations import ServiceOp, report_failure
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.voucher_output import print_voucher

DEAD_STATES = ("replaced", "cancelled")  # such a card can never be used again
CARD_COLUMNS = 6


@dataclass(frozen=True)
class MemberDetails:
    """Everything the desk shows about one member, read in one go on the database worker."""

    member: MemberView
    coupons: tuple[CouponView, ...] = field(default=())
    passes: tuple[PassView, ...] = field(default=())
    tier_name_en: str = ""


def load_member_details(
    ctx: StoreContext,
    actor: Actor,
    *,
    member_no: str | None = None,
    card_no: str | None = None,
) -> MemberDetails:
    """The member (by member number, or by a card they hold), their wallet and passes."""
    if card_no:
        member = lookup_by_card(ctx, actor, card_no)
    else:
        member = show_member(ctx, actor, member_no=member_no)
    coupons = tuple(member_coupons(ctx, actor, member.member_no))
    passes = tuple(member_passes(ctx, actor, member_no=member.member_no))
    tier_en = show_rules(ctx).rules.tiers.level(member.tier).name_en
    return MemberDetails(member, coupons, passes, tier_en)


class MemberDeskScreen(QWidget):
    """The member desk: search, the member's details, and the member and card actions."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.details: MemberDetails | None = None
        self.hits: list[MemberHit] = []
        self.dialog: QDialog | None = None  # the dialog opened last (tests look here)
        self._select_after_load: str | None = None
        self._clear_status_on_load = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(self._make_search_row())
        self.search_status = QLabel(self)
        self.search_status.setProperty("role", "muted")
        layout.addWidget(self.search_status)

        body = QHBoxLayout()
        self.results_list = QListWidget(self)
        self.results_list.setMaximumWidth(300)
        self.results_list.setMinimumWidth(220)
        self.results_list.itemActivated.connect(self._open_hit)
        self.results_list.itemClicked.connect(self._open_hit)
        self.results_list.installEventFilter(self)
        body.addWidget(self.results_list)
        body.addWidget(self._make_detail(), 1)
        body.addLayout(self._make_actions())
        layout.addLayout(body, 1)

        self.note_label = QLabel(self)
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #1a7f37; font-weight: bold;")
        self.note_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.note_label)

        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)
        session.sig_signed_in.connect(self.clear)
        session.sig_signed_out.connect(self.clear)
        self.clear()

    # -- building ----------------------------------------------------------------------------

    def _make_search_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search_field = QLineEdit(self)
        self.search_field.setPlaceholderText(
            self.tr("Mobile (or its last 4), member no, card no or name — or tap a card")
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.returnPressed.connect(self.search)
        self.search_field.installEventFilter(self)
        self.search_button = QPushButton(self.tr("Search (Enter)"), self)
        self.search_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.search_button.clicked.connect(self.search)
        row.addWidget(self.search_field, 1)
        row.addWidget(self.search_button)
        return row

    def _make_detail(self) -> QWidget:
        panel = QFrame(self)
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(panel)
        self.name_label = QLabel(panel)
        self.name_label.setProperty("role", "title")
        box.addWidget(self.name_label)

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.profile_values: dict[str, QLabel] = {}
        rows = [
            ("mobile", self.tr("Mobile"), "gender", self.tr("Gender")),
            ("member_no", self.tr("Member no"), "birthday", self.tr("Birthday")),
            ("tier", self.tr("Tier"), "points", self.tr("Points")),
            ("registered", self.tr("Registered"), "email", self.tr("Email")),
        ]
        for r, (key1, title1, key2, title2) in enumerate(rows):
            for c, (key, title) in enumerate(((key1, title1), (key2, title2))):
                caption = QLabel(title, panel)
                caption.setProperty("role", "muted")
                value = QLabel(panel)
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(caption, r, c * 2)
                grid.addWidget(value, r, c * 2 + 1)
                self.profile_values[key] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        box.addLayout(grid)

        cards_title = QLabel(self.tr("Cards"), panel)
        cards_title.setStyleSheet("font-weight: bold;")
        box.addWidget(cards_title)
        self.cards_table = QTableWidget(0, CARD_COLUMNS, panel)
        self.cards_table.setHorizontalHeaderLabels(
            [
                self.tr("Card"),
                self.tr("Medium"),
                self.tr("State"),
                self.tr("Principal"),
                self.tr("Bonus"),
                self.tr("PIN"),
            ]
        )
        self.cards_table.verticalHeader().hide()
        self.cards_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cards_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.cards_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.cards_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cards_table.setMinimumHeight(140)
        self.cards_table.itemSelectionChanged.connect(self._update_buttons)
        box.addWidget(self.cards_table, 1)

        self.wallet_tabs = QTabWidget(panel)
        self.coupons_list = QListWidget(panel)
        self.passes_list = QListWidget(panel)
        for view in (self.coupons_list, self.passes_list):
            view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.wallet_tabs.addTab(self.coupons_list, "")
        self.wallet_tabs.addTab(self.passes_list, "")
        self.wallet_tabs.setMinimumHeight(120)
        box.addWidget(self.wallet_tabs, 1)
        self.detail_panel = panel
        return panel

    def _make_actions(self) -> QVBoxLayout:
        column = QVBoxLayout()
        self.register_button = self._action(self.tr("Register (F5)"), "F5", self.register)
        self.register_button.setProperty("primary", True)
        self.edit_button = self._action(self.tr("Edit (F6)"), "F6", self.edit)
        self.topup_button = self._action(self.tr("Top up (F7)"), "F7", self.top_up)
        self.lost_button = self._action(self.tr("Report lost (F8)"), "F8", self.lost_or_found)
        self.freeze_button = self._action(self.tr("Freeze (F9)"), "F9", self.freeze_or_unfreeze)
        self.replace_button = self._action(self.tr("Replace card (F10)"), "F10", self.replace)
        self.cancel_button = self._action(self.tr("Cancel card (F11)"), "F11", self.cancel_card)
        self.cancel_button.setProperty("danger", True)
        self.pin_button = self._action(self.tr("Reset PIN (Ctrl+P)"), "Ctrl+P", self.reset_pin)
        self.issue_button = self._action(self.tr("Issue card (Ctrl+N)"), "Ctrl+N", self.issue)
        self.history_button = self._action(
            self.tr("Purchases & top-ups (Ctrl+H)"), "Ctrl+H", self.show_history
        )
        for button in (
            self.register_button,
            self.edit_button,
            self.topup_button,
            self.lost_button,
            self.freeze_button,
            self.replace_button,
            self.cancel_button,
            self.pin_button,
            self.issue_button,
            self.history_button,
        ):
            button.setMinimumWidth(190)
            column.addWidget(button)
        column.addStretch(1)
        return column

    def _action(self, text: str, key: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(button.click)  # click() does nothing while disabled
        return button

    # -- the screen's life -------------------------------------------------------------------

    def activate(self) -> None:
        """Shown: the cursor waits in the search field."""
        self.search_field.setFocus()
        self.search_field.selectAll()

    def deactivate(self) -> None:
        """Left for another screen: nothing to keep open."""

    @Slot()
    def clear(self, *_args: object) -> None:
        """Forget the member on screen (a new operator must not see the last one's)."""
        self.details = None
        self.hits = []
        self.search_field.clear()
        self.search_status.setText("")
        self.results_list.clear()
        self.note_label.setText("")
        self._show_details(None)

    # -- searching ---------------------------------------------------------------------------

    def search(self) -> None:
        """Enter in the search field: find members by what was typed."""
        text = self.search_field.text().strip()
        if not text:
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self.search_status.setText(self.tr("Searching…"))
        ServiceOp(self, lambda: find_members(ctx, actor, text)).success(
            lambda hits: self._show_hits(text, hits)
        ).failure(self._search_failed).run()

    def _search_failed(self, exc: BaseException) -> None:
        self.search_status.setText("")
        report_failure(self, exc)

    def _show_hits(self, text: str, hits: list[MemberHit]) -> None:
        self.hits = hits
        self.results_list.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.name}   {hit.mobile}\n{hit.member_no}")
            item.setData(Qt.ItemDataRole.UserRole, hit.member_no)
            self.results_list.addItem(item)
        if not hits:
            self.search_status.setText(fill(self.tr("No member matches “%1”"), text))
            self.search_field.selectAll()
            return
        if len(hits) == 1:
            self.search_status.setText(self.tr("1 member found"))
            self.results_list.setCurrentRow(0)
            self.load_member(member_no=hits[0].member_no)
            return
        self.search_status.setText(
            fill(self.tr("%1 members found: Up/Down to choose, Enter to open"), len(hits))
        )
        self.results_list.setCurrentRow(0)
        self.results_list.setFocus()

    @Slot(QListWidgetItem)
    def _open_hit(self, item: QListWidgetItem) -> None:
        self.load_member(member_no=str(item.data(Qt.ItemDataRole.UserRole)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.search_field and key == Qt.Key.Key_Down:
                # Down: to the list when there is a choice, else to the member's cards.
                if len(self.hits) > 1:
                    self.results_list.setFocus()
                    if self.results_list.currentRow() < 0:
                        self.results_list.setCurrentRow(0)
                    return True
                if self.cards_table.rowCount():
                    self.cards_table.setFocus()
                    return True
            if (
                watched is self.results_list
                and key == Qt.Key.Key_Up
                and self.results_list.currentRow() <= 0
            ):
                self.search_field.setFocus()
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape:
            self.activate()  # back to searching
            return
        super().keyPressEvent(event)

    # -- cards tapped at the desk ------------------------------------------------------------

    def _dialog_open(self) -> bool:
        return self.dialog is not None and isValid(self.dialog) and self.dialog.isVisible()

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or self._dialog_open():
            return
        if self.session.actor is None or self.session.locked:
            return
        self.search_status.setText(
            fill(self.tr("Card %1: looking up its member…"), mask_card_no(event.number))
        )
        self.load_member(card_no=event.number)

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if not self.session.devices.cards_are_for(self) or self._dialog_open():
            return
        window = self.window()
        if hasattr(window, "show_message"):
            window.show_message(event.reason(self.session.lang), "warning")

    # -- the member on screen ----------------------------------------------------------------

    def load_member(
        self,
        *,
        member_no: str | None = None,
        card_no: str | None = None,
        select_card: str | None = None,
    ) -> None:
        """Read a member (by number, or by a card they hold) and show them."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        self._select_after_load = select_card or card_no
        self._clear_status_on_load = card_no is not None
        ServiceOp(
            self,
            lambda: load_member_details(ctx, actor, member_no=member_no, card_no=card_no),
            busy_text=self.tr("Reading the member…"),
        ).success(self._show_details).failure(self._search_failed).run()

    def refresh(self, select_card: str | None = None) -> None:
        """Read the member on screen again (after a change)."""
        if self.details is not None:
            self.load_member(
                member_no=self.details.member.member_no,
                select_card=select_card or self.selected_card_no(),
            )

    def _show_details(self, details: MemberDetails | None) -> None:
        self.details = details
        member = details.member if details else None
        if details is not None and self._clear_status_on_load:
            self.search_status.setText("")
        self._clear_status_on_load = False
        en = self.session.lang == "en"
        self.name_label.setText(member.name if member else self.tr("No member selected"))
        values = {
            "mobile": member.mobile if member else "",
            "gender": gender_text(member.gender) if member else "",
            "member_no": member.member_no if member else "",
            "birthday": (member.birthday or "") if member else "",
            "tier": self._tier_text(member, details, en) if member and details else "",
            "points": str(member.points) if member else "",
            "registered": self._local_time(member.registered_at) if member else "",
            "email": (member.email or "") if member else "",
        }
        for key, label in self.profile_values.items():
            label.setText(values[key])
        self._fill_cards(member.cards if member else ())
        self._fill_wallet(details)
        self._update_buttons()

    def _tier_text(self, member: MemberView, details: MemberDetails, en: bool) -> str:
        """The tier's name, and the day a manager's change holds it until, if it does."""
        name = details.tier_name_en if en else member.tier_name
        until = member.tier_locked_until
        today = self.session.ctx.business_day().isoformat()
        if until and until >= today:
            return fill(self.tr("%1 (held until %2)"), name, until)
        return name

    def _local_time(self, moment_iso: str) -> str:
        moment = datetime.fromisoformat(moment_iso).astimezone(self.session.ctx.tz)
        return moment.strftime("%Y-%m-%d %H:%M")

    def _fill_cards(self, cards: tuple[CardView, ...]) -> None:
        table = self.cards_table
        table.blockSignals(True)
        table.setRowCount(len(cards))
        for row, card in enumerate(cards):
            texts = [
                mask_card_no(card.card_no),
                media_text(card.media),
                state_text(card.state),
                money(card.principal_fen),
                money(card.bonus_fen),
                pin_text(card),
            ]
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, card.card_no)
                if column in (3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if card.state in DEAD_STATES:
                    item.setForeground(Qt.GlobalColor.gray)
                elif column == 2 and card.state != "active":
                    item.setForeground(Qt.GlobalColor.red)
                table.setItem(row, column, item)
        table.blockSignals(False)
        wanted = self._select_after_load
        self._select_after_load = None
        row = next((i for i, c in enumerate(cards) if c.card_no == wanted), -1)
        if row < 0:  # otherwise the first card still in use
            row = next((i for i, c in enumerate(cards) if c.state not in DEAD_STATES), 0)
        if cards:
            table.selectRow(row)
        else:
            table.clearSelection()

    def _fill_wallet(self, details: MemberDetails | None) -> None:
        lang = self.session.lang
        self.coupons_list.clear()
        self.passes_list.clear()
        coupons = details.coupons if details else ()
        passes = details.passes if details else ()
        for coupon in coupons:
            value = coupon.value_en if lang == "en" else coupon.value_zh
            text = fill(
                self.tr("%1 · %2 · valid %3 to %4"),
                coupon.name,
                value,
                coupon.valid_from,
                coupon.valid_to,
            )
            if not coupon.usable_today:
                text += "  " + self.tr("(not usable today)")
            self.coupons_list.addItem(text)
        for held in passes:
            self.passes_list.addItem(
                fill(self.tr("%1 · %2 · until %3"), held.name, held.text(lang), held.valid_until)
            )
        self.wallet_tabs.setTabText(0, fill(self.tr("Coupons (%1)"), len(coupons)))
        self.wallet_tabs.setTabText(1, fill(self.tr("Service cards (%1)"), len(passes)))

    def selected_card(self) -> CardView | None:
        """The card the card actions act on."""
        if self.details is None:
            return None
        number = self.selected_card_no()
        return next((c for c in self.details.member.cards if c.card_no == number), None)

    def selected_card_no(self) -> str | None:
        rows = self.cards_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.cards_table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _update_buttons(self) -> None:
        has_member = self.details is not None
        card = self.selected_card()
        live = card is not None and card.state not in DEAD_STATES
        self.edit_button.setEnabled(has_member)
        self.issue_button.setEnabled(has_member)
        self.history_button.setEnabled(has_member)
        for button in (
            self.topup_button,
            self.lost_button,
            self.freeze_button,
            self.replace_button,
            self.cancel_button,
            self.pin_button,
        ):
            button.setEnabled(live)
        lost = card is not None and card.state == "lost"
        frozen = card is not None and card.state == "frozen"
        self.lost_button.setText(self.tr("Found (F8)") if lost else self.tr("Report lost (F8)"))
        self.freeze_button.setText(self.tr("Unfreeze (F9)") if frozen else self.tr("Freeze (F9)"))

    def _note(self, text: str) -> None:
        self.note_label.setText(text)

    # -- dialogs -----------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        old = self.dialog
        if old is not None and isValid(old) and not old.isVisible():
            old.deleteLater()
        self.dialog = dialog
        self.note_label.setText("")
        window = self.window()
        if hasattr(window, "clear_alert"):
            window.clear_alert()
        dialog.open()

    def show_history(self) -> None:
        """Ctrl+H: the member's purchases and top-ups, newest first."""
        if self.details is not None:
            self.dialog = open_member_history(self, self.session, self.details.member.member_no)

    def _member_and_card(self) -> tuple[MemberView, CardView] | None:
        card = self.selected_card()
        if self.details is None or card is None:
            return None
        return self.details.member, card

    def register(self) -> None:
        """F5: register a new member (and give them a card)."""
        dialog = RegisterMemberDialog(self.session, self)
        dialog.sig_done.connect(self._registered)
        self._open(dialog)

    def _registered(self, outcome: Registration) -> None:
        member = outcome.member
        notes = [fill(self.tr("Member %1 registered: %2."), member.name, member.member_no)]
        if outcome.card is not None:
            notes.append(fill(self.tr("Card %1 issued."), mask_card_no(outcome.card.card_no)))
        if outcome.coupons:
            names = "、".join(c.name for c in outcome.coupons)
            notes.append(fill(self.tr("Welcome gift: %1."), names))
        self._note(" ".join(notes))
        self.hits = []
        self.results_list.clear()
        self.load_member(
            member_no=member.member_no,
            select_card=outcome.card.card_no if outcome.card else None,
        )

    def edit(self) -> None:
        """F6: edit the member's profile."""
        if self.details is None:
            return
        dialog = EditMemberDialog(self.session, self.details.member, self)
        dialog.sig_done.connect(lambda _view: self._changed(self.tr("Profile saved.")))
        self._open(dialog)

    def top_up(self) -> None:
        """F7: top up the selected card."""
        chosen = self._member_and_card()
        if chosen is None:
            return
        dialog = TopUpDialog(self.session, *chosen, self)
        dialog.sig_done.connect(self._topped_up)
        self._open(dialog)

    def _topped_up(self, result: TopUpResult) -> None:
        after = result.balance
        notes = [
            fill(
                self.tr(
                    "Topped up %1 (%2), bonus %3. Card balance now %4: principal %5, bonus %6."
                ),
                money(result.amount_fen),
                tender_text(result.tender),
                money(result.bonus_fen),
                money(after.stored_value_fen),
                money(after.principal_fen),
                money(after.bonus_fen),
            )
        ]
        if result.new_tier:
            notes.append(fill(self.tr("New tier: %1."), after.tier_name))
        if result.coupon_codes:
            notes.append(fill(self.tr("%1 coupon(s) given."), len(result.coupon_codes)))
        self._changed(" ".join(notes))
        cash = result.amount_fen if result.tender == "cash" else 0
        print_voucher(self, self.session, result.entry_id, cash)  # 充值凭证, drawer for cash

    def lost_or_found(self) -> None:
        """F8: report the selected card lost (挂失), or mark a lost card found (解挂)."""
        chosen = self._member_and_card()
        if chosen is None:
            return
        member, card = chosen
        ctx, actor, card_no = self.session.ctx, self.session.require_actor(), card.card_no
        masked = mask_card_no(card_no)
        if card.state == "lost":
            self._run_card_op(
                lambda: mark_card_found(ctx, actor, card_no),
                fill(self.tr("Card %1 is active again."), masked),
            )
            return
        dialog = ConfirmCardDialog(
            self.session,
            self.tr("Report card lost"),
            fill(
                self.tr(
                    "Report card %1 of %2 lost?\nIt stops paying at once; its balance stays "
                    "safe for a replacement card."
                ),
                masked,
                member.name,
            ),
            self.tr("Report lost (Enter)"),
            lambda: report_card_lost(ctx, actor, card_no),
            self.tr("Reporting the card lost…"),
            self,
        )
        dialog.sig_done.connect(
            lambda _view: self._changed(
                fill(self.tr("Card %1 reported lost: it can no longer pay."), masked)
            )
        )
        self._open(dialog)

    def freeze_or_unfreeze(self) -> None:
        """F9: freeze or unfreeze the selected card (a cashier with a manager's approval)."""
        card = self.selected_card()
        if card is None:
            return
        ctx, actor, card_no = self.session.ctx, self.session.require_actor(), card.card_no
        masked = mask_card_no(card_no)
        change = unfreeze_card if card.state == "frozen" else freeze_card
        note = (
            self.tr("Card %1 unfrozen.") if change is unfreeze_card else self.tr("Card %1 frozen.")
        )
        window = self.window()
        if hasattr(window, "clear_alert"):
            window.clear_alert()
        self.note_label.setText("")

        def changed(_view: CardView) -> None:
            self._changed(fill(note, masked))
            self._keys_back()

        run_with_approval(
            self,
            self.session,
            Permission.CARD_FREEZE,
            lambda approval: change(ctx, actor, card_no, approval),
            changed,
            busy_text=self.tr("Changing the card…"),
            on_cancel=self._keys_back,
        )

    def _keys_back(self) -> None:
        """The manager's approval closed: the desk takes the keys (F5–F12) again, once the
        dialog is gone (so the activation is not handed back to it)."""
        QTimer.singleShot(0, self._activate_window)

    def _activate_window(self) -> None:
        if self.isVisible():
            self.window().activateWindow()

    def _run_card_op(self, work: Callable[[], CardView], note: str) -> None:
        window = self.window()
        if hasattr(window, "clear_alert"):
            window.clear_alert()
        self.note_label.setText("")
        ServiceOp(self, work, busy_text=self.tr("Changing the card…")).success(
            lambda _view: self._changed(note)
        ).run()

    def replace(self) -> None:
        """F10: replace the selected card (换卡/补卡)."""
        chosen = self._member_and_card()
        if chosen is None:
            return
        dialog = ReplaceCardDialog(self.session, *chosen, self)
        dialog.sig_done.connect(self._replaced)
        self._open(dialog)

    def _replaced(self, result: ReplaceResult) -> None:
        self._changed(
            fill(
                self.tr("Card %1 replaced by %2: principal %3 and bonus %4 moved."),
                mask_card_no(result.old.card_no),
                mask_card_no(result.new.card_no),
                money(result.moved_principal_fen),
                money(result.moved_bonus_fen),
            ),
            select_card=result.new.card_no,
        )
        print_voucher(self, self.session, result.entry_id)  # 换卡凭证

    def cancel_card(self) -> None:
        """F11: cancel the selected card (注销), refunding the principal less the fee."""
        chosen = self._member_and_card()
        if chosen is None:
            return
        dialog = CancelCardDialog(self.session, *chosen, self)
        dialog.sig_done.connect(self._cancelled)
        self._open(dialog)

    def _cancelled(self, result: CancelResult) -> None:
        self._changed(
            fill(
                self.tr("Card %1 cancelled: pay back %2 (fee %3 kept); bonus %4 forfeited."),
                mask_card_no(result.card.card_no),
                money(result.refund_fen),
                money(result.fee_fen),
                money(result.forfeited_bonus_fen),
            )
        )
        cash = result.refund_fen if result.tender == "cash" else 0
        print_voucher(self, self.session, result.entry_id, cash)  # 退卡凭证, drawer for cash

    def reset_pin(self) -> None:
        """Ctrl+P: set a new PIN on the selected card (lifts a lock)."""
        chosen = self._member_and_card()
        if chosen is None:
            return
        masked = mask_card_no(chosen[1].card_no)
        dialog = ResetPinDialog(self.session, *chosen, self)
        dialog.sig_done.connect(
            lambda _view: self._changed(fill(self.tr("New PIN set for card %1."), masked))
        )
        self._open(dialog)

    def issue(self) -> None:
        """Ctrl+N: give the member another card."""
        if self.details is None:
            return
        dialog = IssueCardDialog(self.session, self.details.member, self)
        dialog.sig_done.connect(
            lambda card: self._changed(
                fill(self.tr("Card %1 issued."), mask_card_no(card.card_no)),
                select_card=card.card_no,
            )
        )
        self._open(dialog)

    def _changed(self, note: str, select_card: str | None = None) -> None:
        """After a change: say what was done and show the member as they are now."""
        self._note(note)
        self.refresh(select_card)
