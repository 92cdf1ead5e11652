"""开钱箱 outside a sale: a signed-in operator, a reason, an audit event before the kick."""

from __future__ import annotations

import json

import pytest

from hardware.errors import DeviceUnavailable
from pos_app.domain.errors import AuthenticationFailed, InvalidInput
from pos_app.domain.permissions import Role
from pos_app.services import shifts
from pos_app.services.auth import Actor
from pos_app.services.cash_drawer import open_drawer
from tests.services.support import audit_rows


def drawer_events(store):
    return [a for a in audit_rows(store) if a.action == "drawer.open"]


def test_the_opening_is_recorded_with_who_and_why_before_the_kick(store):
    shifts.open_shift(store.ctx, store.cashier, 0)
    seen: list[int] = []
    open_drawer(
        store.ctx, store.cashier, " 换零钱 ", lambda: seen.append(len(drawer_events(store)))
    )
    assert seen == [1]  # recorded before the drawer moved
    (event,) = drawer_events(store)
    assert (event.operator_id, event.outcome) == (store.cashier.operator_id, "ok")
    assert json.loads(event.detail or "{}") == {"reason": "换零钱", "shift_no": 1}


def test_no_reason_or_no_real_operator_opens_nothing(store):
    kicks: list[str] = []
    with pytest.raises(InvalidInput):
        open_drawer(store.ctx, store.cashier, "  ", lambda: kicks.append("x"))
    made_up = Actor(store.cashier.operator_id, "cashier", "王收银", Role.MANAGER)  # no sign-in
    with pytest.raises(AuthenticationFailed):
        open_drawer(store.ctx, made_up, "找零", lambda: kicks.append("x"))
    assert kicks == []
    assert [e.outcome for e in drawer_events(store)] == ["refused"]


def test_a_drawer_that_does_not_open_is_recorded_as_such(store):
    def jammed() -> None:
        raise DeviceUnavailable("打印机缺纸", "The printer is out of paper")

    with pytest.raises(DeviceUnavailable):
        open_drawer(store.ctx, store.manager, "找零", jammed)
    assert [e.outcome for e in drawer_events(store)] == ["ok", "failed"]
    assert "out of paper" in (drawer_events(store)[-1].detail or "")
