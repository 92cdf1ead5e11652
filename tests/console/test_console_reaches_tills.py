"""A freeze pressed in the HQ console reaches real tills: SH01 issues a card, BJ01 pulls it;
HQ's admin freezes it in the console; at their next pull both tills refuse it, and after the
unfreeze BJ01 sells on it again. Both tills' verify and HQ's pass."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card
from hq.models import ChainCard
from hq.operators import add_operator
from hq.server import create_app
from pos_app.domain.errors import CardStateError
from pos_app.services import stored_value
from pos_app.services.cards import issue_card
from pos_app.services.checkout import sell
from pos_app.services.members import register_member
from tests.chain.conftest import ChainTill, hq, hq_verified, two_stores  # noqa: F401
from tests.console.conftest import SECRET
from tests.services.support import req
from tests.sync_support.hq_thread import HqThread

CARD_NO = "88880077"
PASSWORD = "console-pass-1"


def _state(till: ChainTill) -> str:
    with read_session(till.ctx.engine) as session:
        return session.scalars(select(Card.state).where(Card.card_no == CARD_NO)).one()


def _press(client: TestClient, card_id: str, action: str) -> None:
    page = client.get(f"/console/cards/{card_id}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        f"/console/cards/{card_id}/state",
        data={"action": action, "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _sell_on_card(till: ChainTill) -> None:
    sell(till.ctx, till.admin, req(("V001", 1), card=CARD_NO, pay=[("stored_value", None)]))


def test_a_freeze_in_the_console_is_refused_at_every_till_after_their_pull(
    hq: HqThread,  # noqa: F811
    two_stores: tuple[ChainTill, ChainTill],  # noqa: F811
) -> None:
    shanghai, beijing = two_stores
    member = register_member(shanghai.ctx, shanghai.admin, "13800138077", "赵六")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, CARD_NO)
    stored_value.top_up(shanghai.ctx, shanghai.admin, CARD_NO, 50_000)
    shanghai.push()
    beijing.pull()
    assert _state(beijing) == "active"
    with Session(hq.engine) as session, session.begin():
        add_operator(session, "boss", "总部管理员", "admin", "hq", PASSWORD, datetime.now(UTC))
        card_id = session.scalars(select(ChainCard.id).where(ChainCard.card_no == CARD_NO)).one()

    with TestClient(create_app(hq.engine, console_secret=SECRET)) as client:
        page = client.get("/console/sign-in").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        signed_in = client.post(
            "/console/sign-in",
            data={"login": "boss", "password": PASSWORD, "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        _press(client, card_id, "freeze")

        for till in (beijing, shanghai):
            till.pull()
            assert _state(till) == "frozen"
        with pytest.raises(CardStateError):
            _sell_on_card(beijing)
        with pytest.raises(CardStateError):
            _sell_on_card(shanghai)

        _press(client, card_id, "unfreeze")
    beijing.pull()
    assert _state(beijing) == "active"
    _sell_on_card(beijing)
    for till in (shanghai, beijing):
        till.push()
        till.verified()
    hq_verified(hq)
