"""The store's name, changed by an admin from the Settings screen: audited, refused to others,
and on the receipts and reports from then on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import AuditEvent
from pos_app.domain.errors import InvalidInput, PermissionDenied
from pos_app.services.store_setup import update_store_info
from tests.conftest import StoreFixture


def _audit(store: StoreFixture) -> list[tuple[str, str, str | None, str | None]]:
    """(action, outcome, target, detail) of every audit event, oldest first."""
    with read_session(store.ctx.engine) as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(r.action, r.outcome, r.target, r.detail) for r in rows]


def test_an_admin_renames_the_store_and_it_is_audited(store: StoreFixture) -> None:
    assert store.ctx.store.name == "上海南京路店"  # cached before the change
    info = update_store_info(store.ctx, store.admin, "  上海南京西路店 ")
    assert (info.code, info.name) == ("SH01", "上海南京西路店")
    assert store.ctx.store.name == "上海南京西路店", "the context reads the new name"
    action, outcome, target, detail = _audit(store)[-1]
    assert (action, outcome, target) == ("store.update", "ok", "SH01")
    assert json.loads(detail or "{}") == {"name": "上海南京西路店", "was": "上海南京路店"}


@pytest.mark.parametrize("who", ["manager", "cashier"])
def test_only_an_admin_may(store: StoreFixture, who: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        update_store_info(store.ctx, getattr(store, who), "别的店")
    assert refused.value.message("en").endswith("not allowed to change the store's details")
    store.ctx.forget_store()
    assert store.ctx.store.name == "上海南京路店"
    _action, outcome, target, _detail = _audit(store)[-1]
    assert (outcome, target) == ("refused", "store")


@pytest.mark.parametrize("name", ["   ", "店" * 81])
def test_an_empty_or_too_long_name_is_refused(store: StoreFixture, name: str) -> None:
    before = len(_audit(store))
    with pytest.raises(InvalidInput):
        update_store_info(store.ctx, store.admin, name)
    assert len(_audit(store)) == before
    store.ctx.forget_store()
    assert store.ctx.store.name == "上海南京路店"
