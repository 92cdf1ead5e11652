"""GET /v1/tills/{till}/feed (docs/chain-protocol.md, "Down"): one item per key at its
newest change, external values computed for the pulling till, pages that never skip, and
scope by store and region. SQLite and PostgreSQL, signed requests through the real app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.feed_changes import Change, record_changes
from hq.models import FeedChange, Store
from tests.hq.conftest import Hq
from tests.hq.signing_till import MEMBER, STORE_UUID, SigningTill
from tests.hq.test_hq_chain_views import CARD_1, pushed, two_stores


def feed(hq: Hq, till: SigningTill, after: int = 0, limit: int | None = None) -> dict[str, Any]:
    path = f"/v1/tills/{till.code}/feed?after={after}" + (f"&limit={limit}" if limit else "")
    answer = hq.get(path, signer=till)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def by_kind(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(item["kind"], item["key"]): item["data"] for item in items}


def store_row(outbox_id: int) -> dict[str, Any]:
    data = {"id": STORE_UUID, "code": "SH01", "name": "上海南京路店", "timezone": "Asia/Shanghai"}
    return {"outbox_id": outbox_id, "table": "store", "key": [STORE_UUID], "op": "I", "data": data}


def test_each_till_is_told_what_the_others_did(hq: Hq) -> None:
    pushed(hq, hq.till, [], [store_row(1)])
    beijing = two_stores(hq)

    there = feed(hq, beijing)
    assert there["more"] is False and there["cursor"] == there["items"][-1]["id"]
    items = by_kind(there["items"])
    assert items[("store", "SH01")] == {
        "id": STORE_UUID,
        "code": "SH01",
        "name": "门店 SH01",  # HQ's name of the store
        "region": None,
    }
    card = items[("card", CARD_1)]
    assert (card["card_no"], card["state"]) == ("88880001", "active")
    assert (card["external_principal_fen"], card["external_bonus_fen"]) == (10_000, 1_000)
    assert "principal_fen" not in card
    member = items[("member", MEMBER)]
    assert member["external_points"] == 80 and "points_balance" not in member
    assert member["home_store"]["code"] == "SH01"

    here = by_kind(feed(hq, hq.till)["items"])
    assert here[("card", CARD_1)]["external_principal_fen"] == -3_000
    assert here[("member", MEMBER)]["external_points"] == 25

    # Nothing new: an empty page that keeps the cursor.
    again = feed(hq, beijing, after=there["cursor"])
    assert again == {"items": [], "cursor": there["cursor"], "more": False}


def test_pages_hand_out_every_key_once_at_its_newest_change(hq: Hq) -> None:
    pushed(hq, hq.till, [], [store_row(1)])
    beijing = two_stores(hq)
    whole = feed(hq, beijing)["items"]
    keys = [(i["kind"], i["key"]) for i in whole]
    assert len(keys) == len(set(keys))
    paged: list[dict[str, Any]] = []
    cursor, more = 0, True
    while more:
        page = feed(hq, beijing, after=cursor, limit=1)
        paged += page["items"]
        cursor, more = page["cursor"], page["more"]
    assert [(i["kind"], i["key"], i["id"]) for i in paged] == [
        (i["kind"], i["key"], i["id"]) for i in whole
    ]


def test_a_till_hears_only_changes_in_its_scope(hq: Hq) -> None:
    pushed(hq, hq.till, [], [store_row(1)])
    beijing = two_stores(hq)
    with Session(hq.engine) as s, s.begin():
        bj01 = s.scalar(select(Store.id).where(Store.code == "BJ01"))
        record_changes(s, [Change("store", "SH01", store_id=bj01)], "2026-03-02T00:00:00+00:00")
        start = s.scalar(select(func.max(FeedChange.id)))
    assert start is not None
    # The change was for Beijing's tills only: Shanghai's till hears nothing new.
    assert feed(hq, hq.till, after=start - 1)["items"] == []
    assert [i["key"] for i in feed(hq, beijing, after=start - 1)["items"]] == ["SH01"]


def test_the_feed_is_signed_and_only_for_the_signing_till(hq: Hq) -> None:
    beijing = two_stores(hq)
    path = f"/v1/tills/{hq.till.code}/feed"
    assert hq.get(path, signer=beijing).status_code == 403
    assert hq.client.get(path).status_code == 401
