"""Two tills of one store (two installations: SH01-01 and SH01-02) sync to one HQ: each
chain arrives whole under its own till, their receipt numbers never collide, and HQ's
verify passes over both."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.context import StoreContext, open_store
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import init_store
from pos_app.services.sync_setup import setup
from pos_app.services.verify import verify_ledger
from pos_app.sync.pusher import PushResult, push
from pos_app.sync.status import sync_status
from tests.conftest import FakeClock, hand_till_to
from tests.services.support import req
from tests.sync.conftest import HqServer


def _till(tmp_path: Path, till_id: str) -> StoreContext:
    # HQ checks each request's time against its own: the till's clock is today's.
    clock = FakeClock(datetime.now(UTC))
    ctx = open_store(tmp_path / till_id, clock=clock, key_dir=tmp_path / f"{till_id}-keys")
    init_store(ctx, "SH01", "上海南京路店", "admin", "secret123", till_id=till_id)
    return ctx


def test_two_tills_of_one_store_sync_side_by_side(tmp_path: Path, hq_lite: HqServer) -> None:
    tills = {t: _till(tmp_path, t) for t in ("SH01-01", "SH01-02")}
    receipts: set[str] = set()
    try:
        for till_id, ctx in tills.items():
            admin = sign_in(ctx, "admin", "secret123")
            token = hq_lite.enroll()  # HQ numbers the store's tills in turn: 01, then 02
            assert setup(ctx, admin, hq_lite.url, token).till_id == till_id
            load_demo_catalogue(ctx, admin)
            hand_till_to(ctx, admin, 10000)
            for _ in range(3):
                receipts.add(sell(ctx, admin, req(("V001", 1))).receipt_no)
            outcome = push(ctx)
            assert outcome.result is PushResult.DONE, outcome
            assert sync_status(ctx).pending == 0
            report = verify_ledger(ctx)
            assert report.ok and report.hq_acked_seq == report.head_seq, report.problems
        assert len(receipts) == 6
        assert {r[:8] for r in receipts} == {"SH01-01-", "SH01-02-"}
        held = hq_lite.tills()
        for till_id, ctx in tills.items():
            assert held[till_id]["entries"] == sync_status(ctx).head_seq
            assert held[till_id]["forks"] == 0 and held[till_id]["store"] == "SH01"
        assert hq_lite.cli("verify")["ok"] is True
    finally:
        for ctx in tills.values():
            ctx.engine.dispose()
