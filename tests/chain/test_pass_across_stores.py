"""A count card bought at SH01 works at BJ01 (docs/chain-protocol.md, "Service passes of
another store"): it comes down as a `pass_synced` mirror; a wash at BJ01 takes a use, SH01
hears of it (its uses left are the chain's), and clearing counts the sale at SH01 and the use
at BJ01. Both tills' verify and HQ's pass. On SQLite and PostgreSQL HQs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import ServicePassItem
from hq import clearing
from hq.chain_catalogue import import_products
from pos_app.services.cards import issue_card
from pos_app.services.checkout import sell
from pos_app.services.members import register_member
from tests.chain.conftest import ChainTill, hq_verified
from tests.services.support import req
from tests.sync_support.hq_thread import HqThread

CARD = "88880003"
CATALOGUE = (
    "sku,barcodes,name,category,unit,kind,price,member_price,pass_services,pass_valid_days\n"
    "SV01,,精致洗车,服务,次,服务,50,,,\n"
    "C010,,洗车10次卡,卡项,张,次卡,400,,SV01*10,365\n"
)


def _left(till: ChainTill) -> int | None:
    with read_session(till.ctx.engine) as s:
        return s.scalars(select(ServicePassItem.uses_left)).one()


def test_a_count_card_of_shanghai_is_used_in_beijing(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    with Session(hq.engine) as session, session.begin():
        import_products(session, CATALOGUE.encode(), datetime.now(UTC))
    shanghai.pull()
    member = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, CARD)
    bought = sell(shanghai.ctx, shanghai.admin, req(("C010", 1), card=CARD))
    assert bought.total_fen == 40_000
    shanghai.push()
    beijing.pull()
    assert _left(beijing) == 10
    beijing.verified()

    sell(
        beijing.ctx, beijing.admin, req(("SV01", 2), card=CARD, pay=[("count_card", None)])
    )  # two uses
    assert _left(beijing) == 8
    beijing.push()
    shanghai.pull()
    assert _left(shanghai) == 8
    sell(shanghai.ctx, shanghai.admin, req(("SV01", 1), card=CARD, pay=[("count_card", None)]))
    shanghai.push()
    before = beijing.pull()
    assert before.ok and _left(beijing) == 7
    # Hearing its own uses back writes nothing.
    again = beijing.pull()
    assert again.applied == 0 and _left(beijing) == 7
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)

    month = shanghai.ctx.clock().strftime("%Y-%m")
    with Session(hq.engine) as session, session.begin():
        lines = {line.store: line for line in clearing.statement(session, month).lines}
    assert lines["SH01"].count_card_sold_fen == 40_000
    assert lines["BJ01"].count_card_used_fen == 2 * 4_000
    assert lines["SH01"].count_card_used_fen == 4_000
