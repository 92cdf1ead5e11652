"""Registering a member at the till (in under 30 seconds: mobile + name, a card tap) and
editing a profile.

Registration is two services, `register_member` then `issue_card`: if the card is refused
after the member was registered, the dialog says exactly that and stays open to retry the
card alone — the member is not registered twice, and nothing typed is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from hardware.events import CardPresented
from pos_app.domain.errors import DomainError
from pos_app.domain.members import check_name, normalize_mobile
from pos_app.services.cards import issue_card
from pos_app.services.coupons import CouponView, member_coupons
from pos_app.services.members import (
    GENDERS,
    CardView,
    MemberView,
    register_member,
    update_member,
)
from pos_app.ui.card_dialogs import (
    CardNumberField,
    DeskDialog,
    PinField,
    pin_problem,
)
from pos_app.ui.error_text import describe_error
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method

_ISO_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def gender_text(gender: str | None) -> str:
    """A gender in the UI's language ("" when not given)."""
    names = {
        "male": QCoreApplication.translate("MemberText", "male"),
        "female": QCoreApplication.translate("MemberText", "female"),
        "other": QCoreApplication.translate("MemberText", "other"),
    }
    return names.get(gender or "", "")


def birthday_entry(text: str) -> tuple[str | None, str]:
    """A typed birthday as YYYY-MM-DD for the services, or a problem to show.

    Takes 1990-05-17, 1990/5/17, 1990.05.17 or 19900517; the services check the date itself.
    A month and day alone (0517) cannot be kept: the profile holds a full date.
    """
    text = text.strip()
    if not text:
        return None, ""
    match = _ISO_DAY.fullmatch(text)
    if match:
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}", ""
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}", ""
    if re.fullmatch(r"\d{4}", text):
        return None, QCoreApplication.translate(
            "MemberText", "Give the year as well: YYYY-MM-DD or YYYYMMDD (e.g. 19900517)"
        )
    return None, QCoreApplication.translate(
        "MemberText", "Not a date: type YYYY-MM-DD or YYYYMMDD (e.g. 19900517)"
    )


def _gender_box(parent: QWidget, current: str | None = None) -> QComboBox:
    box = QComboBox(parent)
    box.addItem(QCoreApplication.translate("MemberText", "not given"), None)
    for gender in GENDERS:
        box.addItem(gender_text(gender), gender)
    box.setCurrentIndex(max(0, box.findData(current)) if current else 0)
    return box


@dataclass(frozen=True)
class Registration:
    """What the register dialog did: the member, their card (None if none was given) and the
    coupons registration gave them (新人券)."""

    member: MemberView
    card: CardView | None
    coupons: tuple[CouponView, ...] = field(default=())


class RegisterMemberDialog(DeskDialog):
    """注册会员: mobile and name (required), birthday and gender, the new card, its PIN."""

    takes_cards = True

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(session, self.tr("Register member"), self.tr("Register (Enter)"), parent)
        self.member: MemberView | None = None  # once registered, only the card is retried
        self.coupons: tuple[CouponView, ...] = ()

        self.mobile_field = QLineEdit(self)
        self.mobile_field.setMaxLength(20)
        self.mobile_field.setPlaceholderText(self.tr("11 digits, e.g. 13800138000"))
        disable_input_method(self.mobile_field)
        self.name_field = QLineEdit(self)
        self.name_field.setMaxLength(40)
        self.birthday_field = QLineEdit(self)
        self.birthday_field.setPlaceholderText(self.tr("Optional: YYYY-MM-DD or YYYYMMDD"))
        disable_input_method(self.birthday_field)
        self.gender_box = _gender_box(self)
        self.card_field = CardNumberField(self)
        self.card_hint = QLabel(self.tr("Tap or swipe the new card now (optional)"), self)
        self.card_hint.setProperty("role", "muted")
        self.pin_field = PinField(self)
        self.again_field = PinField(self)
        self.form.addRow(self.tr("Mobile *"), self.mobile_field)
        self.form.addRow(self.tr("Name *"), self.name_field)
        self.form.addRow(self.tr("Birthday"), self.birthday_field)
        self.form.addRow(self.tr("Gender"), self.gender_box)
        self.form.addRow(self.tr("Card"), self.card_field)
        self.form.addRow("", self.card_hint)
        self.form.addRow(self.tr("PIN (optional, 6 digits)"), self.pin_field)
        self.form.addRow(self.tr("PIN again"), self.again_field)
        self.set_chain(
            self.mobile_field,
            self.name_field,
            self.birthday_field,
            self.gender_box,
            self.card_field,
            self.pin_field,
            self.again_field,
        )

    # -- moving through the form -------------------------------------------------------------

    def advance(self, widget: QWidget) -> None:
        if widget is self.mobile_field and not self._mobile_ok():
            return
        if widget is self.name_field and not self._name_ok():
            return
        if widget is self.birthday_field and birthday_entry(self.birthday_field.text())[1]:
            self.show_problem(birthday_entry(self.birthday_field.text())[1])
            return
        if self.member is not None and widget is self.card_field:
            self.confirm()  # retrying the card alone
            return
        if (widget is self.card_field and not self.card_field.card_no()) or (
            widget is self.pin_field and not self.pin_field.text()
        ):
            self.confirm()  # nothing more to give: register now
            return
        self.show_problem("")
        super().advance(widget)

    def _mobile_ok(self) -> bool:
        try:
            normalize_mobile(self.mobile_field.text())
        except DomainError as exc:
            self.show_error(exc)
            self.mobile_field.setFocus()
            return False
        return True

    def _name_ok(self) -> bool:
        try:
            check_name(self.name_field.text())
        except DomainError as exc:
            self.show_error(exc)
            self.name_field.setFocus()
            return False
        return True

    def card_tapped(self, event: CardPresented) -> None:
        waiting_for_it = self.card_field.number_field.hasFocus()
        self.card_field.fill_from(event)
        self.show_problem("")
        if self.member is not None:
            self.card_field.setFocus()  # retrying the card: Enter issues it
        elif waiting_for_it:
            self.pin_field.setFocus()
        # A card tapped early leaves the cursor where the cashier is typing.

    # -- registering -------------------------------------------------------------------------

    def confirm(self) -> None:
        if self.busy:
            return
        problem = pin_problem(self.pin_field.text(), self.again_field.text())
        if problem:
            self.show_problem(problem)
            self.pin_field.clear()
            self.again_field.clear()
            self.pin_field.setFocus()
            return
        if self.member is not None:
            self._issue_card(self.member)
            return
        if not self._mobile_ok() or not self._name_ok():
            return
        birthday, problem = birthday_entry(self.birthday_field.text())
        if problem:
            self.show_problem(problem)
            self.birthday_field.setFocus()
            return
        mobile, name = self.mobile_field.text(), self.name_field.text()
        gender = self.gender_box.currentData()
        ctx, actor = self.ctx, self.actor

        def register() -> tuple[MemberView, tuple[CouponView, ...]]:
            member = register_member(ctx, actor, mobile, name, birthday, gender)
            try:
                # A new member's wallet holds just what registration gave them (新人券).
                coupons = tuple(member_coupons(ctx, actor, member.member_no))
            except DomainError:
                coupons = ()  # the member is registered all the same
            return member, coupons

        self.run(register, self._registered, self.tr("Registering the member…"))

    def _registered(self, result: tuple[MemberView, tuple[CouponView, ...]]) -> None:
        self.member, self.coupons = result
        if self.card_field.card_no():
            self._issue_card(self.member)
        else:
            self.finish(Registration(self.member, None, self.coupons))

    def _issue_card(self, member: MemberView) -> None:
        card_no, media = self.card_field.card_no(), self.card_field.media()
        if not card_no:
            self.show_problem(self.tr("Tap or swipe the card, or type its number"))
            self.card_field.setFocus()
            return
        pin = self.pin_field.text() or None
        ctx, actor, member_no = self.ctx, self.actor, member.member_no
        self.run(
            lambda: issue_card(ctx, actor, member_no, card_no, media, pin),
            lambda card: self.finish(Registration(member, card, self.coupons)),
            self.tr("Issuing the card…"),
            on_failure=self._card_refused,
        )

    def _card_refused(self, exc: BaseException) -> None:
        member = self.member
        assert member is not None
        for widget in (self.mobile_field, self.name_field, self.birthday_field, self.gender_box):
            widget.setEnabled(False)
        self.confirm_button.setText(self.tr("Issue card (Enter)"))
        self.cancel_button.setText(self.tr("Close without a card"))
        self.show_problem(
            fill(
                self.tr(
                    "Member %1 (%2) is registered, but the card was not issued: %3\n"
                    "Tap another card (or correct the number) and press Issue card."
                ),
                member.name,
                member.member_no,
                describe_error(exc, self.session.lang),
            )
        )
        self.card_field.setFocus()
        self.card_field.number_field.selectAll()

    def reject(self) -> None:
        if self.member is not None and not self.busy:
            # Registered without the card: the desk still shows the new member.
            self.finish(Registration(self.member, None, self.coupons))
            return
        super().reject()


class EditMemberDialog(DeskDialog):
    """Edits a profile: name, birthday, gender, email. Only what changed is sent."""

    def __init__(
        self, session: TillSession, member: MemberView, parent: QWidget | None = None
    ) -> None:
        super().__init__(session, self.tr("Edit member"), self.tr("Save (Enter)"), parent)
        self.member = member
        self.set_intro(fill(self.tr("Member no %1 · mobile %2"), member.member_no, member.mobile))
        self.name_field = QLineEdit(member.name, self)
        self.name_field.setMaxLength(40)
        self.birthday_field = QLineEdit(member.birthday or "", self)
        self.birthday_field.setPlaceholderText(self.tr("YYYY-MM-DD or YYYYMMDD"))
        disable_input_method(self.birthday_field)
        self.gender_box = _gender_box(self, member.gender)
        self.email_field = QLineEdit(member.email or "", self)
        disable_input_method(self.email_field)
        self.form.addRow(self.tr("Name *"), self.name_field)
        self.form.addRow(self.tr("Birthday"), self.birthday_field)
        self.form.addRow(self.tr("Gender"), self.gender_box)
        self.form.addRow(self.tr("Email"), self.email_field)
        self.set_chain(self.name_field, self.birthday_field, self.gender_box, self.email_field)

    def confirm(self) -> None:
        changes: dict[str, str] = {}
        name = self.name_field.text().strip()
        if name != self.member.name:
            changes["name"] = name
        birthday, problem = birthday_entry(self.birthday_field.text())
        if problem:
            self.show_problem(problem)
            self.birthday_field.setFocus()
            return
        if birthday and birthday != self.member.birthday:
            changes["birthday"] = birthday
        gender = self.gender_box.currentData()
        if gender and gender != self.member.gender:
            changes["gender"] = gender
        email = self.email_field.text().strip()
        if email != (self.member.email or ""):
            changes["email"] = email
        if not changes:
            self.reject()
            return
        ctx, actor, member_no = self.ctx, self.actor, self.member.member_no
        self.run(
            lambda: update_member(ctx, actor, member_no, **changes),
            self.finish,
            self.tr("Saving…"),
        )
