"""Card lifecycle: stock import, issue, lost, found, freeze, replace, cancel, PIN (PRODUCT §2)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select

from db.engine import read_session
from db.ledger import new_id
from db.models import Card, CardStockBatch, Operator
from pos_app.domain.card_lifecycle import CardMedia, CardState, mask_card_no, next_state
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, CardStateError, InvalidInput
from pos_app.domain.members import check_card_no
from pos_app.domain.permissions import Permission
from pos_app.domain.pin_policy import check_pin_format
from pos_app.domain.stored_value import CancelSettlement, settle_cancel
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.credentials import hash_secret
from pos_app.services.employee_cards import employee_card_hash
from pos_app.services.lookup import card_by_no, member_by_no
from pos_app.services.members import CardView, card_view
from pos_app.services.rules_store import current_rules
from pos_app.services.shifts import open_shift_row
from pos_app.services.use_case import use_case

STOCK_CHUNK = 5000


def _media(media: str) -> str:
    try:
        return CardMedia(media).value
    except ValueError:
        raise InvalidInput(
            f"卡介质不正确：{media}（ic / magstripe / barcode / virtual）",
            f"Not a card medium: {media} (ic / magstripe / barcode / virtual)",
        ) from None


@dataclass(frozen=True)
class StockImportResult:
    batch_id: str
    imported: int


def import_card_stock(
    ctx: StoreContext,
    actor: Actor,
    card_numbers: Iterable[str],
    media: str = "ic",
    label: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> StockImportResult:
    """Add blank cards to stock before they are issued. All or nothing: one bad or duplicate
    number refuses the whole batch, naming it (with its line number)."""
    media = _media(media)
    label = refuse_control_chars(label.strip(), "批次名称", "batch label")
    numbers: list[str] = []
    seen: set[str] = set()
    for line_no, raw in enumerate(card_numbers, start=1):
        if not raw.strip():
            continue
        try:
            number = check_card_no(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"第 {line_no} 行：{exc.zh}", f"Line {line_no}: {exc.en}") from None
        if number in seen:
            raise AlreadyExists(
                f"第 {line_no} 行：卡号重复 {mask_card_no(number)}",
                f"Line {line_no}: duplicate card {mask_card_no(number)}",
            )
        seen.add(number)
        numbers.append(number)
    if not numbers:
        raise InvalidInput("没有要导入的卡号", "There are no card numbers to import")
    with use_case(ctx, actor, Permission.CARD_STOCK_IMPORT, target=label) as uc:
        s = uc.session
        for i in range(0, len(numbers), 900):  # SQLite caps bound parameters per statement
            chunk = numbers[i : i + 900]
            taken = s.scalars(select(Card.card_no).where(Card.card_no.in_(chunk))).first()
            if taken:
                raise AlreadyExists(
                    f"卡号已存在：{mask_card_no(taken)}",
                    f"Card already exists: {mask_card_no(taken)}",
                )
        batch_id = new_id()
        entry = uc.ledger.append(
            EntryKind.CARD_STOCK_IMPORTED,
            payload={"batch_id": batch_id, "count": len(numbers), "media": media},
        )
        s.add(
            CardStockBatch(
                id=batch_id,
                label=label or batch_id,
                media=media,
                count=len(numbers),
                imported_at=uc.now_iso,
                entry_id=entry.entry_id,
            )
        )
        s.flush()
        for i in range(0, len(numbers), STOCK_CHUNK):
            rows = [
                {
                    "id": new_id(),
                    "card_no": n,
                    "media": media,
                    "stock_batch_id": batch_id,
                    "created_at": uc.now_iso,
                    "state": CardState.IN_STOCK.value,
                    "principal_fen": 0,
                    "bonus_fen": 0,
                    "pin_failures": 0,
                }
                for n in numbers[i : i + STOCK_CHUNK]
            ]
            s.execute(insert(Card), rows)
            if progress:
                progress(min(i + STOCK_CHUNK, len(numbers)), len(numbers))
    return StockImportResult(batch_id, len(numbers))


def issue_card(
    ctx: StoreContext,
    actor: Actor,
    member_no: str,
    card_no: str,
    media: str = "ic",
    pin: str | None = None,
) -> CardView:
    """Give a member a card: a card from stock, or a new number (e.g. a virtual card)."""
    number = check_card_no(card_no)
    media = _media(media)
    if pin is not None:
        check_pin_format(pin)
    pin_hash = hash_secret(pin) if pin is not None else None
    with use_case(ctx, actor, Permission.CARD_ISSUE, target=mask_card_no(number)) as uc:
        s = uc.session
        member = member_by_no(s, member_no)
        staff = select(Operator.id).where(
            Operator.employee_card_hash == employee_card_hash(uc.keys, number)
        )
        if s.scalars(staff).first() is not None:
            raise AlreadyExists(
                f"卡 {mask_card_no(number)} 是员工卡，不能作为会员卡",
                f"Card {mask_card_no(number)} is an employee card, not a member card",
            )
        card = s.scalars(select(Card).where(Card.card_no == number)).first()
        if card is None:
            card = Card(
                id=new_id(),
                card_no=number,
                media=media,
                created_at=uc.now_iso,
                state=CardState.IN_STOCK.value,
                principal_fen=0,
                bonus_fen=0,
                pin_failures=0,
            )
            s.add(card)
        elif card.member_id is not None:
            raise AlreadyExists(
                f"卡 {mask_card_no(number)} 已属于其他会员",
                f"Card {mask_card_no(number)} already belongs to a member",
            )
        card.state = next_state(mask_card_no(number), CardState(card.state), "issue").value
        card.member_id = member.id
        s.flush()
        uc.ledger.append(
            EntryKind.CARD_ISSUED,
            member_id=member.id,
            card_id=card.id,
            payload={"media": card.media},
        )
        if pin_hash is not None:
            card.pin_hash = pin_hash
            uc.ledger.append(EntryKind.PIN_SET, member_id=member.id, card_id=card.id)
        return card_view(card)


def _change_state(
    ctx: StoreContext,
    actor: Actor,
    card_no: str,
    action: str,
    kind: EntryKind,
    permission: Permission,
    approval: Approval | None = None,
) -> CardView:
    with use_case(ctx, actor, permission, approval, target=mask_card_no(card_no)) as uc:
        card = card_by_no(uc.session, card_no)
        card.state = next_state(mask_card_no(card.card_no), CardState(card.state), action).value
        uc.ledger.append(kind, member_id=card.member_id, card_id=card.id)
        return card_view(card)


def report_card_lost(ctx: StoreContext, actor: Actor, card_no: str) -> CardView:
    """挂失: the card stops paying at once; its balances stay safe for a replacement."""
    return _change_state(
        ctx, actor, card_no, "report_lost", EntryKind.CARD_LOST, Permission.CARD_REPORT_LOST
    )


def mark_card_found(ctx: StoreContext, actor: Actor, card_no: str) -> CardView:
    """解挂: a lost card turned up; a manager makes it active again."""
    return _change_state(ctx, actor, card_no, "found", EntryKind.CARD_FOUND, Permission.CARD_FOUND)


def freeze_card(
    ctx: StoreContext, actor: Actor, card_no: str, approval: Approval | None = None
) -> CardView:
    """冻结: the card stops paying until unfrozen; a cashier needs a manager's approval."""
    return _change_state(
        ctx, actor, card_no, "freeze", EntryKind.CARD_FROZEN, Permission.CARD_FREEZE, approval
    )


def unfreeze_card(
    ctx: StoreContext, actor: Actor, card_no: str, approval: Approval | None = None
) -> CardView:
    """解冻: the card pays again; a cashier needs a manager's approval."""
    return _change_state(
        ctx, actor, card_no, "unfreeze", EntryKind.CARD_UNFROZEN, Permission.CARD_FREEZE, approval
    )


@dataclass(frozen=True)
class ReplaceResult:
    old: CardView
    new: CardView
    moved_principal_fen: int
    moved_bonus_fen: int
    entry_id: str = ""  # the new card's entry: the 换卡凭证 is printed from it


def replace_card(
    ctx: StoreContext,
    actor: Actor,
    old_card_no: str,
    new_card_no: str,
    approval: Approval | None = None,
    media: str | None = None,
) -> ReplaceResult:
    """换卡/补卡: every balance moves to the new card, the PIN too; the old card is dead."""
    new_number = check_card_no(new_card_no)
    target = mask_card_no(old_card_no)
    with use_case(ctx, actor, Permission.CARD_REPLACE, approval, target=target) as uc:
        s = uc.session
        old = card_by_no(s, old_card_no)
        if old.member_id is None:
            raise CardStateError("这张卡还没有发给会员", "This card is not issued to a member")
        if new_number == old.card_no:
            raise InvalidInput("新卡号与旧卡号相同", "The new card number is the old one")
        next_state(mask_card_no(old.card_no), CardState(old.state), "replace")
        new = s.scalars(select(Card).where(Card.card_no == new_number)).first()
        if new is None:
            new = Card(
                id=new_id(),
                card_no=new_number,
                media=_media(media or old.media),
                created_at=uc.now_iso,
                state=CardState.IN_STOCK.value,
                principal_fen=0,
                bonus_fen=0,
                pin_failures=0,
            )
            s.add(new)
        elif new.member_id is not None or new.state != CardState.IN_STOCK.value:
            raise AlreadyExists(
                f"新卡 {mask_card_no(new_number)} 已在使用",
                f"Card {mask_card_no(new_number)} is in use",
            )
        s.flush()
        principal, bonus = old.principal_fen, old.bonus_fen
        out = uc.ledger.append(
            EntryKind.CARD_REPLACED_OUT,
            member_id=old.member_id,
            card_id=old.id,
            principal_delta=-principal,
            bonus_delta=-bonus,
            payload={"to_card_id": new.id},
        )
        moved_in = uc.ledger.append(
            EntryKind.CARD_REPLACED_IN,
            member_id=old.member_id,
            card_id=new.id,
            principal_delta=principal,
            bonus_delta=bonus,
            related_entry_id=out.entry_id,
            payload={
                "from_card_id": old.id,
                "pin_carried": old.pin_hash is not None,
                "pin_failures": old.pin_failures,
            },
        )
        new.member_id, new.state = old.member_id, CardState.ACTIVE.value
        new.principal_fen, new.bonus_fen = principal, bonus
        new.pin_hash, new.pin_failures = old.pin_hash, old.pin_failures
        old.state, old.replaced_by_id = CardState.REPLACED.value, new.id
        old.principal_fen = old.bonus_fen = 0
        return ReplaceResult(card_view(old), card_view(new), principal, bonus, moved_in.entry_id)


@dataclass(frozen=True)
class CancelResult:
    card: CardView
    refund_fen: int
    fee_fen: int
    forfeited_bonus_fen: int
    entry_id: str = ""  # the 退卡凭证 is printed from it
    tender: str = "cash"


def cancel_card(
    ctx: StoreContext,
    actor: Actor,
    card_no: str,
    approval: Approval | None = None,
    tender: str = "cash",
) -> CancelResult:
    """注销: principal refunded less the configured fee; the bonus is forfeited."""
    with use_case(ctx, actor, Permission.CARD_CANCEL, approval, target=mask_card_no(card_no)) as uc:
        card = card_by_no(uc.session, card_no)
        next_state(mask_card_no(card.card_no), CardState(card.state), "cancel")
        settlement = settle_cancel(uc.rules.stored_value, card.principal_fen, card.bonus_fen)
        payload: dict[str, object] = {
            "fee_fen": settlement.fee_fen,
            "forfeited_bonus_fen": settlement.forfeited_bonus_fen,
        }
        if settlement.refund_fen:
            # The principal is paid back at the till, out of the cashier's own drawer.
            payload["shift_no"] = open_shift_row(uc.session, actor).shift_no
        entry = uc.ledger.append(
            EntryKind.CARD_CANCELLED,
            member_id=card.member_id,
            card_id=card.id,
            principal_delta=-card.principal_fen,
            bonus_delta=-card.bonus_fen,
            amount_fen=settlement.refund_fen,
            tender=tender,
            payload=payload,
        )
        card.state = CardState.CANCELLED.value
        card.principal_fen = card.bonus_fen = 0
        return CancelResult(
            card_view(card),
            settlement.refund_fen,
            settlement.fee_fen,
            settlement.forfeited_bonus_fen,
            entry.entry_id,
            tender,
        )


def preview_cancel(ctx: StoreContext, actor: Actor, card_no: str) -> CancelSettlement:
    """What cancelling the card would pay back and forfeit now, by the rules in force: the
    settlement `cancel_card` makes, shown before the cashier confirms. Writes nothing."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        _, rules = current_rules(s)
        card = card_by_no(s, card_no)
        return settle_cancel(rules.stored_value, card.principal_fen, card.bonus_fen)


def reset_pin(
    ctx: StoreContext, actor: Actor, card_no: str, new_pin: str, approval: Approval | None = None
) -> CardView:
    """A manager (or a cashier with a manager's approval) sets a new PIN and lifts the lock."""
    check_pin_format(new_pin)
    pin_hash = hash_secret(new_pin)
    with use_case(ctx, actor, Permission.PIN_RESET, approval, target=mask_card_no(card_no)) as uc:
        card = card_by_no(uc.session, card_no)
        if card.state in (CardState.REPLACED.value, CardState.CANCELLED.value):
            raise CardStateError("这张卡已失效", "This card is no longer valid")
        card.pin_hash, card.pin_failures = pin_hash, 0
        uc.ledger.append(EntryKind.PIN_RESET, member_id=card.member_id, card_id=card.id)
        return card_view(card)
