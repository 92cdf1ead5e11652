"""Checking the store and acting on what is found: `verify` with the integrity alarm.

`verify_ledger` only reads. Here its findings take effect: problems raise the alarm (value
moves are refused until a manager acts), a clean verify lowers it, and a manager may
acknowledge exactly the problems found — recorded in the ledger and the audit trail — to let
the store record again while the cause is looked into.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.domain.reasons import check_reason
from pos_app.services.audit import record
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.integrity_alarm import Alarm, clear_alarm, read_alarm, write_alarm
from pos_app.services.use_case import use_case
from pos_app.services.verify import VerifyReport, verify_ledger

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class StoreCheck:
    report: VerifyReport
    alarm: Alarm | None  # the alarm as it stands after the check
    cleared: bool  # a verify that passed lowered an alarm


def check_store(ctx: StoreContext, progress: Callable[[int], None] | None = None) -> StoreCheck:
    """Verify the store and raise or lower the integrity alarm accordingly."""
    report = verify_ledger(ctx, progress)
    if ctx.data_dir is None:
        return StoreCheck(report, None, False)
    if report.ok:
        cleared = clear_alarm(ctx.data_dir)
        if cleared:
            log.warning("verify passed: the integrity alarm is lowered")
        return StoreCheck(report, None, cleared)
    fingerprint = report.fingerprint()
    alarm = read_alarm(ctx.data_dir)
    if alarm is None or alarm.fingerprint != fingerprint:
        # New problems (or different ones from those a manager acknowledged): stop again.
        alarm = Alarm(
            state="open",
            raised_at=ctx.now_iso(),
            fingerprint=fingerprint,
            problems=report.problem_count,
            first_problem=report.first_problem_text()[:300],
        )
        write_alarm(ctx.data_dir, alarm)
        log.error("verify found %d problems: value moves are paused", report.problem_count)
    return StoreCheck(report, alarm, False)


def acknowledge_problems(ctx: StoreContext, actor: Actor, reason: str) -> Alarm:
    """A manager lets the store record again despite the problems verify found, giving a
    reason. Recorded in the ledger (`integrity_acknowledged`, with the problems' fingerprint)
    and the audit trail; a later verify that finds other problems stops the store again."""
    reason = check_reason(reason, MAX_REASON_CHARS)
    alarm = read_alarm(ctx.data_dir)
    if alarm is None or not alarm.is_open:
        raise InvalidInput(
            "没有待确认的账本问题（先运行 pos-app verify）",
            "There is no open integrity problem to acknowledge (run pos-app verify first)",
        )
    with use_case(ctx, actor, Permission.INTEGRITY_ACKNOWLEDGE, target="verify") as uc:
        uc.ledger.append(
            EntryKind.INTEGRITY_ACKNOWLEDGED,
            payload={
                "fingerprint": alarm.fingerprint,
                "problems": alarm.problems,
                "first_problem": alarm.first_problem,
                "raised_at": alarm.raised_at,
                "reason": reason,
            },
        )
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "integrity.acknowledge",
            target=alarm.fingerprint[:16],
            detail={"problems": alarm.problems, "reason": reason},
        )
        acknowledged = Alarm(
            state="acknowledged",
            raised_at=alarm.raised_at,
            fingerprint=alarm.fingerprint,
            problems=alarm.problems,
            first_problem=alarm.first_problem,
            acknowledged_by=actor.login,
            acknowledged_at=uc.now_iso,
            reason=reason,
        )
    assert ctx.data_dir is not None
    write_alarm(ctx.data_dir, acknowledged)
    return acknowledged
