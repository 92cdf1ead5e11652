"""Pulling HQ's down feed (docs/chain-protocol.md, "Down").

    outcome = pull(ctx)

Page by page from the till's cursor until HQ says there is no more: each page is fetched
with no lock held, then applied in one short write transaction of its own
(`feed_apply.apply_page`, which moves the cursor with it), so a sale never waits on HQ and a
pull cut off anywhere resumes from the last page applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import update

from db.engine import read_session, write_session
from db.models import SyncState
from pos_app.services.context import StoreContext
from pos_app.services.feed_apply import apply_page
from pos_app.services.sync_identity import load_private_key
from pos_app.sync import state
from pos_app.sync.client import HqClient
from pos_app.sync.errors import HqRefused, HqUnreachable, SyncError

log = logging.getLogger(__name__)

PAGE_SIZE = 500
# A feed that keeps saying "more" past this many pages in one pull is left for the next one.
MAX_PAGES = 10_000


class PullResult(StrEnum):
    DONE = "done"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


@dataclass(frozen=True)
class PullOutcome:
    result: PullResult
    items: int = 0  # items received
    applied: int = 0  # items that changed something here
    pages: int = 0
    cursor: int = 0
    pulled_at: str | None = None
    error_code: str | None = None
    error_zh: str | None = None
    error_en: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is PullResult.DONE


Progress = Callable[[int], None]  # items received so far


def pull(ctx: StoreContext, progress: Progress | None = None) -> PullOutcome:
    """Apply everything HQ has for this till after its cursor. Faults come back in the
    outcome (and `sync_state.pull_error`); a till not set up raises `SyncNotConfigured`."""
    config = state.read_config(ctx)
    key = load_private_key(ctx.key_dir, config.till_id)
    cursor, pulled_at = _cursor(ctx)
    items = applied = pages = 0
    try:
        with HqClient(config.hq_url, config.till_id, key, config.ca_file, clock=ctx.clock) as hq:
            more = True
            while more and pages < MAX_PAGES:
                page = hq.get(
                    f"/v1/tills/{config.till_id}/feed", {"after": cursor, "limit": PAGE_SIZE}
                )
                page_items, next_cursor, more = _page(page, cursor)
                result = apply_page(ctx, page_items, next_cursor)
                cursor, pulled_at = next_cursor, result.pulled_at
                pages += 1
                items += len(page_items)
                applied += result.applied
                if progress is not None:
                    progress(items)
    except HqUnreachable as exc:
        _record_error(ctx, exc)
        log.warning("pull: HQ unreachable: %s", exc.en)
        return _outcome(PullResult.UNREACHABLE, items, applied, pages, cursor, pulled_at, exc)
    except HqRefused as exc:
        _record_error(ctx, exc)
        log.error("pull: HQ refused (%s): %s", exc.code, exc.en)
        return _outcome(PullResult.REFUSED, items, applied, pages, cursor, pulled_at, exc)
    if applied:
        log.info("pull: %d items, %d applied, cursor %d", items, applied, cursor)
    return _outcome(PullResult.DONE, items, applied, pages, cursor, pulled_at, None)


def _cursor(ctx: StoreContext) -> tuple[int, str | None]:
    with read_session(ctx.engine) as session:
        row = session.get(SyncState, state.STATE_ID)
        return (row.feed_cursor, row.pulled_at) if row is not None else (0, None)


def _page(page: dict[str, Any], after: int) -> tuple[list[dict[str, Any]], int, bool]:
    items, cursor, more = page.get("items"), page.get("cursor"), page.get("more")
    if (
        not isinstance(items, list)
        or isinstance(cursor, bool)
        or not isinstance(cursor, int)
        or cursor < after
        or not isinstance(more, bool)
        or (more and not items)
    ):
        raise HqRefused(
            "总部的下行数据格式不对",
            "HQ's feed page is malformed",
            code="sync_bad_answer",
            status=200,
            body={},
        )
    return [i for i in items if isinstance(i, dict)], cursor, more


def _record_error(ctx: StoreContext, error: SyncError) -> None:
    with write_session(ctx.engine) as session:
        session.execute(
            update(SyncState)
            .where(SyncState.id == state.STATE_ID)
            .values(pull_error=state.error_text(error))
        )


def _outcome(
    result: PullResult,
    items: int,
    applied: int,
    pages: int,
    cursor: int,
    pulled_at: str | None,
    error: SyncError | None,
) -> PullOutcome:
    return PullOutcome(
        result=result,
        items=items,
        applied=applied,
        pages=pages,
        cursor=cursor,
        pulled_at=pulled_at,
        error_code=error.code if error else None,
        error_zh=error.zh if error else None,
        error_en=error.en if error else None,
    )
