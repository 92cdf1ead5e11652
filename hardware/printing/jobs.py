"""Print jobs as the spooler keeps them, and the states a job goes through.

    queued ──► sending ──► printed
       │          └──────► uncertain   (cut off midway: offer a reprint, never retry by itself)
       └──► failed                     (given up before a byte was sent, e.g. cancelled)

A job is only ever sent again by an explicit reprint, which is a new job marked as a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"  # waiting: printer busy, offline, out of paper, or not reached yet
    SENDING = "sending"  # bytes are going out; after a crash this becomes UNCERTAIN
    PRINTED = "printed"  # every byte was accepted and the printer reported no error after
    UNCERTAIN = "uncertain"  # cut off midway: may or may not be on paper; offer 补打
    FAILED = "failed"  # given up with nothing sent (cancelled, cannot be encoded)


JOB_STATE_TEXT = {
    JobState.QUEUED: ("排队中", "queued"),
    JobState.SENDING: ("打印中", "printing"),
    JobState.PRINTED: ("已打印", "printed"),
    JobState.UNCERTAIN: ("可能未打完，请核对后补打", "may be incomplete: check, then reprint"),
    JobState.FAILED: ("未打印", "not printed"),
}


@dataclass(frozen=True)
class PrintJobInfo:
    """A job as the caller sees it."""

    job_id: str
    title: str
    state: JobState
    created_at: str  # ISO-8601 UTC
    attempts: int  # times the spooler tried to reach the printer
    reprint_of: str | None = None  # the job this one is a copy (补打) of
    last_error: str = ""  # the last problem, English, for the log and the job list
