"""People of the chain: scoped at HQ, sent only to the tills of their scope, signing in at
the till with the password HQ set, sealed and recorded in the till's ledger."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import LedgerEntry, Operator
from hq import operators as hq_operators
from hq.models import Region, Store
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AuthenticationFailed, InvalidInput
from pos_app.services.operators import deactivate_operator, reset_password
from pos_app.services.sign_in import sign_in
from pos_app.services.verify import verify_ledger
from tests.chain.master_support import NOW, ChainHq, apply_item, chain_hq
from tests.conftest import StoreFixture

__all__ = ["chain_hq"]

TILLS = ("SH01-01", "SH02-01", "BJ01-01")


def add(hq: ChainHq, login: str, scope: str, **where: str) -> str:
    with hq.session() as session, session.begin():
        op = hq_operators.add_operator(
            session,
            login,
            f"{login} 姓名",
            "manager",
            scope,
            "hq-pass-1",
            NOW,
            region_code=where.get("region"),
            store_code=where.get("store"),
        )
        return op.id


def reached(hq: ChainHq, operator_id: str) -> list[str]:
    return [t for t in TILLS if hq.item("operator", operator_id, t) is not None]


def test_scope_decides_which_tills_receive_an_operator(chain_hq: ChainHq) -> None:
    store_mgr = add(chain_hq, "sh01.mgr", "store", store="SH01")
    region_mgr = add(chain_hq, "east.mgr", "region", region="EAST")
    chain_admin = add(chain_hq, "chain.admin", "hq")
    assert reached(chain_hq, store_mgr) == ["SH01-01"]
    assert reached(chain_hq, region_mgr) == ["SH01-01", "SH02-01"]
    assert reached(chain_hq, chain_admin) == list(TILLS)
    # The feed changes carry the scope, so other tills never even see the change.
    with chain_hq.session() as session:
        sh01 = session.scalars(select(Store.id).where(Store.code == "SH01")).one()
        east = session.scalars(select(Region.id).where(Region.code == "EAST")).one()
    scopes = {c.key: (c.store_id, c.region_id) for c in chain_hq.changes("operator")}
    assert scopes == {store_mgr: (sh01, None), region_mgr: (None, east), chain_admin: (None, None)}
    item = chain_hq.item("operator", store_mgr, "SH01-01")
    assert item is not None
    assert item["login"] == "sh01.mgr" and item["role"] == "manager" and item["active"] is True


def test_a_password_set_at_hq_signs_in_at_the_till_and_follows_hq(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    op_id = add(chain_hq, "zhang", "store", store="SH01")
    data = chain_hq.item("operator", op_id, "SH01-01")
    assert data is not None
    apply_item(store, "operator", data)
    actor = sign_in(store.ctx, "zhang", "hq-pass-1")
    assert (actor.login, actor.role.value) == ("zhang", "manager")
    apply_item(store, "operator", data)  # the same item again changes nothing

    with chain_hq.session() as session, session.begin():
        hq_operators.set_password(session, "zhang", "new-pass-2", NOW)
    apply_item(store, "operator", chain_hq.item("operator", op_id, "SH01-01") or {})
    with pytest.raises(AuthenticationFailed):
        sign_in(store.ctx, "zhang", "hq-pass-1")
    assert sign_in(store.ctx, "zhang", "new-pass-2").login == "zhang"

    with chain_hq.session() as session, session.begin():
        hq_operators.deactivate_operator(session, "zhang", NOW)
        assert hq_operators.verify_password(session, "zhang", "new-pass-2") is None
    apply_item(store, "operator", chain_hq.item("operator", op_id, "SH01-01") or {})
    with pytest.raises(AuthenticationFailed) as refused:
        sign_in(store.ctx, "zhang", "new-pass-2")
    assert "deactivated" in refused.value.en

    with read_session(store.ctx.engine) as s:
        row = s.get(Operator, op_id)
        assert row is not None and row.hq_managed and not row.active
        recorded = [
            json.loads(p or "{}")
            for p in s.scalars(
                select(LedgerEntry.payload)
                .where(LedgerEntry.kind == EntryKind.OPERATOR_CHANGED)
                .order_by(LedgerEntry.store_seq)
            )
        ]
    mine = [r for r in recorded if r["operator_id"] == op_id]
    # Added, new password, deactivated: the repeated item wrote no entry.
    assert [(r["action"], r["active"], r["source"]) for r in mine] == [
        ("added", True, "hq"),
        ("changed", True, "hq"),
        ("changed", False, "hq"),
    ]
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems


def test_local_edits_of_an_hq_operator_are_refused(chain_hq: ChainHq, store: StoreFixture) -> None:
    op_id = add(chain_hq, "wang", "hq")
    apply_item(store, "operator", chain_hq.item("operator", op_id, "SH01-01") or {})
    for attempt in (
        lambda: reset_password(store.ctx, store.admin, "wang", "local-pass"),
        lambda: deactivate_operator(store.ctx, store.admin, "wang"),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.code == "operator_hq_managed"
        assert "HQ" in refused.value.en and "总部" in refused.value.zh
    assert sign_in(store.ctx, "wang", "hq-pass-1").login == "wang"


def test_an_hq_login_a_local_operator_has_is_not_applied(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    op_id = add(chain_hq, "manager", "store", store="SH01")  # the till's own manager's login
    apply_item(store, "operator", chain_hq.item("operator", op_id, "SH01-01") or {})
    with read_session(store.ctx.engine) as s:
        assert s.get(Operator, op_id) is None
    assert sign_in(store.ctx, "manager", "secret123").login == "manager"
    assert verify_ledger(store.ctx).ok
