"""The console's conflicts and clearing pages, on hq.conflicts / hq.clearing."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import ClearingMonth, HqAudit
from tests.console.conftest import Console

ZONE = ZoneInfo("Asia/Shanghai")


def month_of(console: Console, days_ago: int) -> str:
    return (console.clock.now - timedelta(days=days_ago)).astimezone(ZONE).strftime("%Y-%m")


def test_conflicts_are_detected_and_listed_within_scope(console: Console):
    admin = console.as_("admin")
    page = admin.client.get("/console/conflicts").text
    row = re.search(r'<tr data-kind="offline_overspend">(.*?)</tr>', page, re.S)
    assert row is not None, page
    # Topped up 100 at SH01, spent 150 at BJ01 offline: 50 below zero, masked card number.
    assert "8800****6677" in row.group(1) and "¥50.00" in row.group(1)
    assert "<td>BJ01-01</td>" in row.group(1)  # the till that spent below zero
    # Only BJ01's till took part: BJ01's manager sees it, the EAST region's does not.
    bj_page = console.as_("bj").client.get("/console/conflicts").text
    assert 'data-kind="offline_overspend"' in bj_page
    east_page = console.as_("east").client.get("/console/conflicts").text
    assert 'data-kind="offline_overspend"' not in east_page and 'id="no-conflicts"' in east_page


def test_clearing_statement_scoped_exported_and_closed_by_the_hq_admin(console: Console):
    month = month_of(console, 6)  # the top-ups six days ago
    admin = console.as_("admin")
    page = admin.client.get(f"/console/clearing?month={month}").text
    assert 'id="invariant" class="ok"' in page
    assert (
        'data-store="SH01"' in page
        and 'id="close-month"' in page
        or (
            month == month_of(console, 0)  # a month not over cannot be closed: no button needed
        )
    )
    xlsx = admin.client.get(f"/console/clearing/{month}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "spreadsheetml" in xlsx.headers["content-type"]
    pdf = admin.client.get(f"/console/clearing/{month}.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert admin.client.get("/console/clearing?month=2026-13").status_code == 404

    bj = console.as_("bj")
    bj_page = bj.client.get(f"/console/clearing?month={month}").text
    assert 'data-store="BJ01"' in bj_page and 'data-store="SH01"' not in bj_page
    assert 'id="close-month"' not in bj_page
    refused = bj.post(f"/console/clearing/{month}/close", {}, "/console/dashboard")
    assert refused.status_code == 404


def test_closing_a_month_that_is_over_freezes_it(console: Console):
    last_month = (console.clock.now.astimezone(ZONE).replace(day=1) - timedelta(days=1)).strftime(
        "%Y-%m"
    )
    admin = console.as_("admin")
    closed = admin.post(
        f"/console/clearing/{last_month}/close", {}, f"/console/clearing?month={last_month}"
    )
    assert closed.status_code == 303
    page = admin.client.get(closed.headers["location"]).text
    assert 'id="month-state"' in page and "已结账" in page and 'id="close-month"' not in page
    with Session(console.engine) as session:
        assert session.get(ClearingMonth, last_month) is not None
        actors = session.scalars(
            select(HqAudit.actor).where(HqAudit.action == "clearing_closed")
        ).all()
        assert actors == ["admin"]
    # This month is not over: refused with the reason, nothing closed.
    this_month = month_of(console, 0)
    again = admin.post(
        f"/console/clearing/{this_month}/close", {}, f"/console/clearing?month={this_month}"
    )
    page = admin.client.get(again.headers["location"]).text
    assert 'class="flash error"' in page and "尚未结束" in page
    with Session(console.engine) as session:
        assert session.get(ClearingMonth, this_month) is None


def test_an_hq_admin_resolves_a_conflict_with_a_note(console: Console):
    admin = console.as_("admin")
    page = admin.client.get("/console/conflicts").text
    found = re.search(r'action="[^"]*/console/conflicts/(\d+)/resolve"', page)
    assert found is not None
    path = f"/console/conflicts/{found.group(1)}/resolve"
    no_note = admin.post(path, {"note": "  "}, "/console/conflicts")
    assert "请写明处理说明" in admin.client.get(no_note.headers["location"]).text
    bj = console.as_("bj")
    assert bj.post(path, {"note": "not mine to settle"}, "/console/conflicts").status_code == 404
    admin = console.as_("admin")
    done = admin.post(path, {"note": "会员已补缴 50 元"}, "/console/conflicts")
    assert done.status_code == 303
    assert 'data-kind="offline_overspend"' not in admin.client.get("/console/conflicts").text
    everything = admin.client.get("/console/conflicts?all=true").text
    assert "会员已补缴 50 元" in everything and "admin" in everything
    with Session(console.engine) as session:
        actors = session.scalars(
            select(HqAudit.actor).where(HqAudit.action == "conflict_resolved")
        ).all()
    assert actors == ["admin"]
