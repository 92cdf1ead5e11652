"""The integrity alarm: a store that `verify` found broken stops moving value until a manager
restores a backup or acknowledges the problem.

Why a file beside the database, not a table in it: the alarm must be raised even when the
database is too damaged to write (`database disk image is malformed`), and read before each
write without touching the database. It holds what verify found (a fingerprint of the
problems and the first of them); a manager's acknowledgement is recorded in the ledger and
the audit trail, and lifts the refusal for exactly those problems: a later verify that finds
different ones raises the alarm again. A verify that passes, or a restore, clears it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from pos_app.domain.entry_kinds import MOVES_VALUE
from pos_app.domain.errors import DomainError

ALARM_FILENAME = "integrity-alarm.json"


class StoreBroken(DomainError):
    """A write that moves value, refused while the store has an open integrity alarm."""

    code = "store_broken"


@dataclass(frozen=True)
class Alarm:
    state: str  # open, acknowledged
    raised_at: str
    fingerprint: str
    problems: int
    first_problem: str
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state != "acknowledged"


def alarm_path(data_dir: Path) -> Path:
    return data_dir / ALARM_FILENAME


def read_alarm(data_dir: Path | None) -> Alarm | None:
    """The alarm, or None. An unreadable alarm file counts as an open alarm: someone or
    something wrote it, and guessing it away would defeat it."""
    if data_dir is None:
        return None
    path = alarm_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Alarm(**{name: data.get(name) for name in Alarm.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        return Alarm("open", "", "", 0, f"the alarm file {path} cannot be read")


def write_alarm(data_dir: Path, alarm: Alarm) -> None:
    """Written whole (temporary file, fsync, rename) so a power cut never loses it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".alarm-", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(alarm), out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, alarm_path(data_dir))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def clear_alarm(data_dir: Path | None) -> bool:
    """Remove the alarm; returns whether there was one."""
    if data_dir is None:
        return False
    try:
        alarm_path(data_dir).unlink()
        return True
    except FileNotFoundError:
        return False


def refuse_if_broken(alarm: Alarm | None, kind: str) -> None:
    """Refuse an entry that moves value while the alarm is open."""
    if alarm is None or not alarm.is_open or kind not in MOVES_VALUE:
        return
    raise StoreBroken(
        f"账本校验发现问题（{alarm.first_problem}），收款、充值和积分等操作已暂停。"
        "请店长从备份恢复（pos-app backup restore）或确认问题（pos-app verify --acknowledge）",
        f"Verify found a problem with this store's records ({alarm.first_problem}); payments, "
        "top-ups, points and refunds are paused. A manager must restore a backup (pos-app "
        "backup restore) or acknowledge the problem (pos-app verify --acknowledge)",
    )
