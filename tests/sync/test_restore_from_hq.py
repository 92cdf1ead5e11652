"""A till whose disk died (database and key folder lost) is rebuilt from HQ's copy, verifies,
sells again and pushes: the same chain, no fork, HQ's verify clean."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, Sale, SaleLine, SaleTender
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.ledger_chain import GENESIS_HASH
from pos_app.services import members
from pos_app.services.demo_data import fill_demo_store
from pos_app.services.sign_in import sign_in
from pos_app.services.store_secret import load_keys
from pos_app.services.sync_restore import RestoreFailed, restore_from_hq
from pos_app.services.sync_setup import setup
from pos_app.services.verify import verify_ledger
from pos_app.sync.errors import HqRefused
from pos_app.sync.pusher import PushResult, push
from pos_app.sync.status import sync_status
from tests.conftest import PASSWORD, StoreFixture
from tests.sync.conftest import HqServer

COUNTED = (Member, Card, Sale, SaleLine, SaleTender)


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def _now() -> datetime:
    return datetime.now(UTC)


def test_restore_verify_sell_push_and_hq_verifies(till: StoreFixture, hq: HqServer, tmp_path: Path):
    fill_demo_store(till.ctx, till.admin, members=6)
    setup(till.ctx, till.manager, hq.url, hq.enroll())
    assert push(till.ctx).result is PushResult.DONE
    lost = sync_status(till.ctx)
    counts = _counts(till.ctx.engine)
    assert counts["sale"] > 0 and counts["sale_line"] > 0
    till.ctx.engine.dispose()

    # The disk dies: a new, empty data folder and key folder; HQ re-issues the till's token.
    data_dir, key_dir = tmp_path / "new-disk" / "data", tmp_path / "new-disk" / "keys"
    token = hq.enroll(till="SH01-01")
    fetched: list[tuple[str, int, int]] = []
    result, ctx = restore_from_hq(
        data_dir,
        hq.url,
        token,
        key_dir=key_dir,
        clock=_now,
        progress=lambda stage, done, total: fetched.append((stage, done, total)),
    )
    try:
        assert result.verified, result.problems
        assert (result.till_id, result.store_code) == ("SH01-01", "SH01")
        assert (result.head_seq, result.entries) == (lost.head_seq, lost.head_seq)
        assert ("entries", lost.head_seq, lost.head_seq) in fetched
        assert _counts(ctx.engine) == counts
        with read_session(ctx.engine) as s:
            restored = s.scalars(
                select(LedgerEntry).where(LedgerEntry.store_seq == lost.head_seq + 1)
            ).one()
            assert restored.kind == EntryKind.STORE_RESTORED
            assert restored.prev_hash == s.scalar(
                select(LedgerEntry.hash).where(LedgerEntry.store_seq == lost.head_seq)
            )
            assert restored.mac is not None  # sealed by the new key
            assert f'"hq_head_seq":{lost.head_seq}' in (restored.payload or "")
        keys = load_keys(key_dir, ctx.store.id)
        assert keys is not None and keys.keyed_from_seq == lost.head_seq + 1
        status = sync_status(ctx)
        assert status.acked_seq == lost.head_seq and status.configured

        # The operators are sealed under the new key: they sign in and sell.
        cashier = sign_in(ctx, "cashier", PASSWORD)
        members.register_member(ctx, cashier, "13900139000", "恢复后")
        assert verify_ledger(ctx).ok
        pushed = push(ctx)
        assert pushed.result is PushResult.DONE, pushed
        assert sync_status(ctx).pending == 0
        held = hq.tills()["SH01-01"]
        assert held["forks"] == 0 and held["acked_seq"] == sync_status(ctx).head_seq
        assert hq.cli("verify")["ok"] is True
    finally:
        ctx.engine.dispose()


def test_restore_needs_an_empty_folder_and_a_valid_token(
    till: StoreFixture, hq_lite: HqServer, tmp_path: Path
):
    setup(till.ctx, till.manager, hq_lite.url, hq_lite.enroll())
    assert push(till.ctx).result is PushResult.DONE
    with pytest.raises(Exception) as not_empty:
        restore_from_hq(till.data_dir, hq_lite.url, "t", key_dir=tmp_path / "k", clock=_now)
    assert getattr(not_empty.value, "code", "") == "sync_restore_not_empty"
    empty = tmp_path / "empty"
    with pytest.raises(HqRefused) as refused:
        restore_from_hq(empty, hq_lite.url, "wrong", key_dir=tmp_path / "k", clock=_now)
    assert refused.value.code == "enroll_token_invalid"
    assert not (empty / "store.sqlite3").exists()


def test_a_chain_from_hq_that_does_not_link_is_refused(tmp_path: Path):
    from pos_app.services import sync_restore

    class FakeHq:  # only the answer format: a broken chain must never be written
        def get(self, path: str, params: dict[str, int] | None = None) -> dict[str, object]:
            return {
                "entries": [{"seq": 1, "prev_hash": GENESIS_HASH, "hash": "0" * 64, "kind": "x"}]
            }

    from db.engine import make_engine, write_session
    from db.migrate import upgrade

    engine = make_engine(tmp_path / "x.sqlite3")
    upgrade(engine)
    try:
        with pytest.raises(RestoreFailed), write_session(engine) as session:
            sync_restore._load_entries(session, FakeHq(), "SH01-01", 1, "0" * 64, None)  # type: ignore[arg-type]
    finally:
        engine.dispose()
