"""开钱箱: the cash drawer opened outside a cash sale — change for a customer, a device test.

A drawer that opens with no sale is where a till loses cash, so it takes a permission
(`Permission.DRAWER_OPEN`) and leaves an audit event (`drawer.open`) naming who opened it and
why, written before the drawer is kicked; a kick that then fails is recorded too. The kick
after a cash sale is part of the sale and does not come here. The drawer itself is a device:
this module is handed the kick as a function and knows nothing of printers.
"""

from __future__ import annotations

from collections.abc import Callable

from db.engine import write_session
from pos_app.domain.permissions import Permission
from pos_app.domain.reasons import check_reason
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.shifts import find_open_shift
from pos_app.services.use_case import use_case

DRAWER_ACTION = "drawer.open"
MAX_REASON_CHARS = 120


def _reason(reason: str) -> str:
    return check_reason(reason, MAX_REASON_CHARS, "开钱箱的原因", "reason for opening the drawer")


def record_drawer_open(ctx: StoreContext, actor: Actor, reason: str) -> None:
    """Check that the operator may open the drawer and record it, with the reason and the
    open shift, before the drawer is kicked. Refusals are audited by `use_case`."""
    why = _reason(reason)
    with use_case(ctx, actor, Permission.DRAWER_OPEN, target="drawer") as uc:
        shift = find_open_shift(uc.session)
        detail: dict[str, object] = {"reason": why}
        if shift is not None:
            detail["shift_no"] = shift.shift_no
        record(
            uc.session, uc.now_iso, actor.operator_id, DRAWER_ACTION, target="drawer", detail=detail
        )


def record_drawer_failure(ctx: StoreContext, actor: Actor, reason: str, error: str) -> None:
    """The drawer recorded as opened did not open (the device refused): said in the trail
    too, so the record matches what happened at the counter."""
    with write_session(ctx.engine) as session:
        authorize(session, actor, Permission.DRAWER_OPEN)
        record(
            session,
            ctx.now_iso(),
            actor.operator_id,
            DRAWER_ACTION,
            outcome="failed",
            target="drawer",
            detail={"reason": reason.strip(), "error": error},
        )


def open_drawer(ctx: StoreContext, actor: Actor, reason: str, kick: Callable[[], None]) -> None:
    """Record the opening, then `kick()` the drawer; a kick that fails is recorded as such
    and its error raised. (The till's screens run the two halves on their own threads.)"""
    record_drawer_open(ctx, actor, reason)
    try:
        kick()
    except Exception as exc:
        record_drawer_failure(ctx, actor, reason, str(exc))
        raise
