"""The audit trail: sign-ins, refusals, rule loads and edits, newest first, managers only."""

from __future__ import annotations

import json

import pytest

from pos_app.domain.errors import AuthenticationFailed, PermissionDenied
from pos_app.domain.permissions import Role
from pos_app.services import members, stored_value
from pos_app.services.audit import list_audit
from pos_app.services.auth import Actor
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from tests.conftest import PASSWORD, load_rules_text
from tests.services.support import EXAMPLE_TEXT, audit_count, ledger_count, new_member


def newest(store, n=1):
    return list_audit(store.ctx, store.manager, limit=n)


def test_a_sign_in_is_audited(store):
    actor = sign_in(store.ctx, "cashier", PASSWORD)
    event = newest(store)[0]
    assert (event.action, event.outcome, event.operator_id) == ("sign_in", "ok", actor.operator_id)


@pytest.mark.parametrize(
    ("login", "password"), [("cashier", "wrong-password"), ("nobody", PASSWORD)]
)
def test_a_failed_sign_in_is_audited(store, login, password):
    before = (audit_count(store), ledger_count(store))
    with pytest.raises(AuthenticationFailed) as info:
        sign_in(store.ctx, login, password)
    # the same answer for an unknown login and a wrong password
    assert info.value.en == "The login or password is not correct"
    assert (audit_count(store), ledger_count(store)) == (before[0] + 1, before[1])
    event = newest(store)[0]
    assert (event.action, event.outcome, event.target, event.operator_id) == (
        "sign_in",
        "refused",
        login,
        None,
    )
    assert json.loads(event.detail) == {"reason": "bad credentials"}
    assert password not in (event.detail or "")


def test_a_refusal_is_kept_though_the_refused_work_rolled_back(store):
    before = ledger_count(store)
    with pytest.raises(PermissionDenied):
        load_rules(store.ctx, store.cashier, EXAMPLE_TEXT, "cashier.toml")
    assert ledger_count(store) == before
    event = newest(store)[0]
    assert (event.action, event.outcome, event.operator_id) == (
        "rules.load",
        "refused",
        store.cashier.operator_id,
    )


def test_a_rules_load_is_audited_with_its_version_and_digest(store):
    load_rules_text(store, EXAMPLE_TEXT)
    event = newest(store)[0]
    assert (event.action, event.outcome, event.operator_id, event.target) == (
        "rules.load",
        "ok",
        store.admin.operator_id,
        "test",
    )
    detail = json.loads(event.detail)
    assert detail["version"] == 2
    assert len(detail["sha256"]) == 64


def test_newest_first_and_limited(store):
    m = new_member(store)
    members.update_member(store.ctx, store.cashier, m.member_no, name="甲")
    members.update_member(store.ctx, store.cashier, m.member_no, email="a@b.cn")
    first, second = newest(store, 2)
    assert json.loads(first.detail) == {"fields": ["email"]}
    assert json.loads(second.detail) == {"fields": ["name"]}
    assert first.at > second.at
    assert len(list_audit(store.ctx, store.manager, limit=3)) == 3


def test_the_template_store_audited_its_own_set_up(store):
    actions = [e.action for e in list_audit(store.ctx, store.admin, limit=1000)]
    assert actions[-1] == "store.init"
    assert actions.count("operator.add") == 2
    assert "rules.load" in actions


def test_a_refusal_for_a_made_up_operator_is_audited_not_a_crash(store):
    """An actor naming no operator (made up in code) is refused, and the refusal is kept."""
    forged = Actor.sealed("00000000-0000-7000-8000-000000000000", "ghost", "鬼", Role.ADMIN)
    with pytest.raises(AuthenticationFailed):
        stored_value.top_up(store.ctx, forged, "88880001", 10_000)
    (event,) = list_audit(store.ctx, store.manager, limit=1)
    assert event.outcome == "refused" and event.operator_id is None
    assert "00000000-0000-7000-8000-000000000000" in (event.detail or "")
