"""A small chain for the console's tests and screenshots, built at a real HQ database: two
regions, three stores with a till each, a card issued at SH01 and spent at BJ01, a card of
SH02 nobody else used, a few days of sales, and operators of every scope.

The tills' ledgers and their member and card rows go in through `hq.ingest.ingest_batch`
(hashed chains, as tills send them), which fills HQ's chain views of members and cards.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from hq import admin
from hq.admin import iso
from hq.ingest import ingest_batch
from hq.models import Till
from hq.operators import add_operator
from tests.hq.signing_till import chain_with

PASSWORD = "console-pass-1"
CARD_NO = "8800001234567890"  # issued at SH01, spent at BJ01
OTHER_CARD_NO = "8800009876543210"  # SH02's, used nowhere else
MOBILE = "13900001111"
MEMBER_NO = "SH010000001"
MEMBER = "7a9b0c1d-2222-4e3f-8a4b-0000000000a1"
CARD = "9c8d7e6f-3333-4a5b-9c6d-0000000000a1"
OTHER_MEMBER = "7a9b0c1d-2222-4e3f-8a4b-0000000000a2"
OTHER_CARD = "9c8d7e6f-3333-4a5b-9c6d-0000000000a2"
# Topped up 100 at SH01, then spent 150 at BJ01 while BJ01 could not reach HQ.
OVERSPENT_CARD_NO = "8800005555666677"
OVERSPENT_MEMBER = "7a9b0c1d-2222-4e3f-8a4b-0000000000a3"
OVERSPENT_CARD = "9c8d7e6f-3333-4a5b-9c6d-0000000000a3"
STORES = {  # code: (name, region, the till's own store UUID)
    "SH01": ("上海南京路店", "EAST", "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c00a1"),
    "SH02": ("上海徐家汇店", "EAST", "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c00a2"),
    "BJ01": ("北京王府井店", "NORTH", "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c00a3"),
}
OPERATORS = {  # login: (name, role, scope, region, store)
    "admin": ("总部管理员", "admin", "hq", None, None),
    "east": ("华东区经理", "manager", "region", "EAST", None),
    "bj": ("北京店长", "manager", "store", None, "BJ01"),
    "cashier": ("上海收银员", "cashier", "store", None, "SH01"),
}


@dataclass(frozen=True)
class SeededChain:
    now: datetime
    tills: dict[str, str]  # store code → till code


def _entry(kind: str, when: datetime, **fields: Any) -> dict[str, Any]:
    moment = iso(when)
    values: dict[str, Any] = {
        "kind": kind,
        "business_time": moment,
        "wall_time": moment,
        "member_id": None,
        "card_id": None,
        "principal_delta": 0,
        "bonus_delta": 0,
        "points_delta": 0,
        "amount_fen": 0,
        "tender": None,
    }
    values.update(fields)
    return values


def _sale(outbox_id: int, till: str, n: int, when: datetime, total: int) -> list[dict[str, Any]]:
    sale_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{till}/sale/{n}"))
    data = {
        "id": sale_id,
        "kind": "sale",
        "business_time": iso(when),
        "gross_fen": total,
        "discount_fen": 0,
        "rounding_fen": 0,
        "total_fen": total,
    }
    tender = {"sale_id": sale_id, "seq": 1, "tender": "cash", "amount_fen": total}
    return [
        {"outbox_id": outbox_id, "table": "sale", "key": [sale_id], "op": "I", "data": data},
        {
            "outbox_id": outbox_id + 1,
            "table": "sale_tender",
            "key": [sale_id, 1],
            "op": "I",
            "data": {**tender, "business_time": iso(when)},
        },
    ]


def _holder_rows(
    outbox_id: int, member: tuple[str, str, str, str], card: tuple[str, str]
) -> list[dict[str, Any]]:
    """The member and card rows a till sends up when it registers them."""
    member_id, member_no, mobile, name = member
    card_id, card_no = card
    member_data = {"id": member_id, "member_no": member_no, "mobile": mobile, "name": name}
    card_data = {
        "id": card_id,
        "card_no": card_no,
        "member_id": member_id,
        "media": "ic",
        "state": "active",
    }
    return [
        {
            "outbox_id": outbox_id,
            "table": "member",
            "key": [member_id],
            "op": "I",
            "data": member_data,
        },
        {
            "outbox_id": outbox_id + 1,
            "table": "card",
            "key": [card_id],
            "op": "I",
            "data": card_data,
        },
    ]


def _push(
    engine: Engine,
    till: str,
    store_uuid: str,
    changes: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    now: datetime,
) -> None:
    entries = chain_with(changes, till=till, store_id=store_uuid)
    body = json.dumps({"entries": entries, "rows": rows}, ensure_ascii=False).encode()
    ingest_batch(engine, till, body, now)


def seed_chain(engine: Engine, now: datetime | None = None) -> SeededChain:
    """The chain described in the module's docstring, at HQ's database behind `engine`."""
    now = now or datetime.now(UTC)
    tills: dict[str, str] = {}
    with Session(engine) as session, session.begin():
        for code, name in (("EAST", "华东"), ("NORTH", "华北")):
            admin.add_region(session, code, name, now)
        for code, (name, region, _uuid) in STORES.items():
            admin.add_store(session, code, name, now, region_code=region)
            tills[code] = admin.enroll_till(session, code, now).till
        for login, (name, role, scope, region, store_code) in OPERATORS.items():
            add_operator(
                session,
                login,
                name,
                role,
                scope,
                PASSWORD,
                now,
                region_code=region,
                store_code=store_code,
            )
    day = timedelta(days=1)
    on_card = {"member_id": MEMBER, "card_id": CARD}
    _push(
        engine,
        tills["SH01"],
        STORES["SH01"][2],
        [
            _entry("card_issued", now - 6 * day, **on_card),
            _entry(
                "topup",
                now - 6 * day,
                principal_delta=50_000,
                bonus_delta=5_000,
                amount_fen=50_000,
                tender="wechat",
                **on_card,
            ),
            _entry(
                "sv_payment",
                now - 3 * day,
                principal_delta=-12_000,
                amount_fen=12_000,
                tender="stored_value",
                **on_card,
            ),
            _entry("points_earned", now - 3 * day, points_delta=120, member_id=MEMBER),
            _entry(
                "card_issued", now - 4 * day, member_id=OVERSPENT_MEMBER, card_id=OVERSPENT_CARD
            ),
            _entry(
                "topup",
                now - 4 * day,
                principal_delta=10_000,
                amount_fen=10_000,
                tender="cash",
                member_id=OVERSPENT_MEMBER,
                card_id=OVERSPENT_CARD,
            ),
        ],
        [
            r
            for n in range(6)
            for r in _sale(10 * n + 1, tills["SH01"], n, now - n * day, 30_000 + 4_000 * n)
        ]
        + _holder_rows(101, (MEMBER, MEMBER_NO, MOBILE, "张三"), (CARD, CARD_NO))
        + _holder_rows(
            103,
            (OVERSPENT_MEMBER, "SH010000002", "13900003333", "王五"),
            (OVERSPENT_CARD, OVERSPENT_CARD_NO),
        ),
        now,
    )
    _push(
        engine,
        tills["BJ01"],
        STORES["BJ01"][2],
        [
            _entry(
                "sv_payment",
                now - 2 * day,
                principal_delta=-8_000,
                amount_fen=8_000,
                tender="stored_value",
                **on_card,
            ),
            _entry("points_earned", now - 2 * day, points_delta=80, member_id=MEMBER),
            _entry(
                "sv_payment",
                now - 1 * day,
                principal_delta=-15_000,
                amount_fen=15_000,
                tender="stored_value",
                member_id=OVERSPENT_MEMBER,
                card_id=OVERSPENT_CARD,
                payload='{"standin":true}',
            ),
        ],
        [
            r
            for n in range(6)
            for r in _sale(10 * n + 1, tills["BJ01"], n, now - n * day, 22_000 + 2_500 * (n % 3))
        ],
        now,
    )
    _push(
        engine,
        tills["SH02"],
        STORES["SH02"][2],
        [
            _entry("card_issued", now - 5 * day, member_id=OTHER_MEMBER, card_id=OTHER_CARD),
            _entry(
                "topup",
                now - 5 * day,
                principal_delta=20_000,
                amount_fen=20_000,
                tender="cash",
                member_id=OTHER_MEMBER,
                card_id=OTHER_CARD,
            ),
        ],
        [r for n in range(3) for r in _sale(10 * n + 1, tills["SH02"], n, now - n * day, 9_000)]
        + _holder_rows(
            101, (OTHER_MEMBER, "SH020000001", "13900002222", "李四"), (OTHER_CARD, OTHER_CARD_NO)
        ),
        now - 2 * day,
    )
    with Session(engine) as session, session.begin():
        # Enrolled tills have a key (the tests push without signing, straight to ingest).
        session.execute(update(Till).values(public_key="c2VlZGVkIHRpbGwga2V5"))
        # SH02's till has been silent for two days: the dashboard must flag it.
        session.execute(
            update(Till).where(Till.code == tills["SH02"]).values(last_seen=iso(now - 2 * day))
        )
    return SeededChain(now, tills)
