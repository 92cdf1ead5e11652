"""The till pushes to a real HQ (`pos-hq serve`, on SQLite and on PostgreSQL) over HTTP."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import SyncOutbox, SyncState
from pos_app.domain.errors import AlreadyExists, PermissionDenied
from pos_app.services import members
from pos_app.services.sync_setup import setup
from pos_app.sync.errors import HqRefused, HqUnreachable, SyncNotConfigured
from pos_app.sync.outbox import MAX_BATCH_ITEMS
from pos_app.sync.pusher import PushResult, push
from pos_app.sync.status import sync_status
from tests.conftest import StoreFixture
from tests.sync.conftest import HqServer
from tests.sync.support import add_entries


def _connect(till: StoreFixture, hq: HqServer) -> None:
    result = setup(till.ctx, till.manager, hq.url, hq.enroll(), hq.ca_file)
    assert (result.till_id, result.store_code, result.acked_seq) == ("SH01-01", "SH01", 0)


def test_push_sends_everything_in_batches_of_at_most_1000_once(till: StoreFixture, hq: HqServer):
    _connect(till, hq)
    add_entries(till, 2500)
    members.register_member(till.ctx, till.cashier, "13800138000", "张三")
    before = sync_status(till.ctx)
    assert before.configured and before.pending > 2500
    sizes: list[int] = []
    outcome = push(till.ctx, progress=lambda done, total: sizes.append(done))
    assert outcome.result is PushResult.DONE, outcome
    assert outcome.sent_entries == before.head_seq
    assert outcome.batches == math.ceil((before.head_seq + outcome.sent_rows) / MAX_BATCH_ITEMS)
    steps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    assert steps and max(steps) <= MAX_BATCH_ITEMS
    after = sync_status(till.ctx)
    assert (after.pending, after.acked_seq, after.head_seq) == (0, before.head_seq, before.head_seq)
    assert after.last_ok is not None and after.unreachable_since is None
    with read_session(till.ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)) == 0
        state = s.get(SyncState, 1)
        assert state is not None and state.acked_hash is not None
        acked_hash = state.acked_hash
    held = hq.tills()["SH01-01"]
    assert (held["acked_seq"], held["entries"], held["forks"]) == (
        before.head_seq,
        before.head_seq,
        0,
    )
    assert held["head_hash"] == acked_hash
    assert hq.cli("verify")["ok"] is True

    again = push(till.ctx)  # twice is a no-op
    assert again.result is PushResult.DONE
    assert (again.sent_entries, again.sent_rows, again.batches) == (0, 0, 0)
    assert hq.tills()["SH01-01"]["entries"] == before.head_seq


def test_a_push_cut_off_after_a_batch_resumes_where_hq_stands(
    till: StoreFixture, hq_lite: HqServer
):
    _connect(till, hq_lite)
    add_entries(till, 2500)
    head = sync_status(till.ctx).head_seq

    def kill_after_first_batch(done: int, _total: int) -> None:
        if done:
            hq_lite.kill()

    cut = push(till.ctx, progress=kill_after_first_batch)
    assert cut.result is PushResult.UNREACHABLE
    assert (cut.batches, cut.acked_seq) == (1, MAX_BATCH_ITEMS)
    status = sync_status(till.ctx)
    assert status.acked_seq == MAX_BATCH_ITEMS and status.unreachable_since is not None
    assert status.pending > head - MAX_BATCH_ITEMS - 1
    hq_lite.start()
    resumed = push(till.ctx)
    assert resumed.result is PushResult.DONE
    assert resumed.sent_entries == head - MAX_BATCH_ITEMS  # nothing HQ held was sent again
    assert sync_status(till.ctx).unreachable_since is None
    assert hq_lite.tills()["SH01-01"]["entries"] == head
    assert hq_lite.cli("verify")["ok"] is True


def test_hq_down_keeps_the_first_failure_time(till: StoreFixture, hq_lite: HqServer):
    _connect(till, hq_lite)
    hq_lite.kill()
    first = push(till.ctx)
    assert first.result is PushResult.UNREACHABLE and first.error_code == "sync_unreachable"
    assert first.pending > 0 and first.error_zh and first.error_en
    since = sync_status(till.ctx).unreachable_since
    till.clock.advance(seconds=30)
    assert push(till.ctx).result is PushResult.UNREACHABLE
    status = sync_status(till.ctx)
    assert status.unreachable_since == since  # the outage began at the first failure
    assert status.last_attempt is not None and status.last_attempt > since
    assert status.last_error_code == "sync_unreachable"


def test_setup_is_for_managers_once_and_only_after_hq_says_yes(
    till: StoreFixture, hq_lite: HqServer
):
    with pytest.raises(PermissionDenied):
        setup(till.ctx, till.cashier, hq_lite.url, "any-token")
    with pytest.raises(HqRefused) as refused:
        setup(till.ctx, till.manager, hq_lite.url, "not-a-token")
    assert refused.value.code == "enroll_token_invalid"
    assert not sync_status(till.ctx).configured  # nothing recorded before HQ said yes
    with pytest.raises(SyncNotConfigured):
        push(till.ctx)
    _connect(till, hq_lite)  # the key made by the refused try is the one registered now
    with pytest.raises(AlreadyExists) as again:
        setup(till.ctx, till.manager, hq_lite.url, hq_lite.enroll(till="SH01-01"))
    assert again.value.code == "sync_already_setup" and "--reenroll" in again.value.en
    assert push(till.ctx).result is PushResult.DONE


def test_reenroll_replaces_the_key_and_pushing_goes_on(till: StoreFixture, hq_lite: HqServer):
    _connect(till, hq_lite)
    assert push(till.ctx).result is PushResult.DONE
    token = hq_lite.enroll(till="SH01-01")
    result = setup(till.ctx, till.manager, hq_lite.url, token, reenroll=True)
    assert result.reenrolled and result.acked_seq == sync_status(till.ctx).acked_seq
    members.register_member(till.ctx, till.cashier, "13800138000", "张三")
    assert push(till.ctx).result is PushResult.DONE
    assert sync_status(till.ctx).pending == 0


def test_https_with_hqs_ca_and_refused_without_it(till: StoreFixture, hq_tls: HqServer):
    token = hq_tls.enroll()
    with pytest.raises(HqUnreachable) as untrusted:
        setup(till.ctx, till.manager, hq_tls.url, token)  # the system CAs do not know HQ's
    assert untrusted.value.code == "sync_tls" and "--ca" in untrusted.value.en
    setup(till.ctx, till.manager, hq_tls.url, token, hq_tls.ca_file)
    assert push(till.ctx).result is PushResult.DONE
    assert hq_tls.cli("verify")["ok"] is True
