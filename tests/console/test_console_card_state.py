"""Lost / freeze / unfreeze from the console: the chain state, the audit record conflict
detection reads, and the feed change that carries it to every till, together."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import ChainCard, FeedChange, HqAudit
from tests.console.chain_seed import CARD
from tests.console.conftest import Console

CARD_PAGE = f"/console/cards/{CARD}"


def press(console: Console, action: str) -> str:
    """Press the card page's button; the page shown after it."""
    response = console.post(f"{CARD_PAGE}/state", {"action": action}, CARD_PAGE)
    assert response.status_code == 303
    assert response.headers["location"].endswith(CARD_PAGE)
    return console.client.get(CARD_PAGE).text


def card_row(console: Console) -> ChainCard:
    with Session(console.engine) as session:
        card = session.get(ChainCard, CARD)
        assert card is not None
        session.expunge(card)
        return card


def feed(console: Console) -> list[tuple[str, str, int | None]]:
    with Session(console.engine) as session:
        rows = session.execute(
            select(FeedChange.kind, FeedChange.key, FeedChange.store_id).order_by(FeedChange.id)
        )
        return [(kind, key, store) for kind, key, store in rows]


def card_audits(console: Console) -> list[tuple[str | None, str, str | None, object]]:
    with Session(console.engine) as session:
        rows = session.execute(
            select(HqAudit.actor, HqAudit.outcome, HqAudit.target, HqAudit.detail)
            .where(HqAudit.action == "card_state")
            .order_by(HqAudit.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_freeze_and_unfreeze_write_state_audit_and_feed_in_one_go(console: Console):
    admin = console.as_("admin")
    before = len(feed(console))
    page = press(admin, "freeze")
    assert 'data-state="frozen"' in page and "已冻结" in page
    card = card_row(console)
    assert (card.state, card.state_source) == ("frozen", "hq:admin")
    moment = console.clock.now.isoformat(timespec="microseconds")
    assert card.state_at == moment
    assert card_audits(console) == [
        ("admin", "ok", CARD, {"card_id": CARD, "state": "frozen", "business_time": moment})
    ]
    assert feed(console)[before:] == [("card", CARD, None)]  # every till of the chain hears

    page = press(admin, "unfreeze")
    assert 'data-state="active"' in page
    assert card_row(console).state == "active"
    assert feed(console)[before:] == [("card", CARD, None), ("card", CARD, None)]


def test_a_move_the_state_does_not_allow_is_refused_and_changes_nothing(console: Console):
    admin = console.as_("admin")
    before = len(feed(console))
    page = press(admin, "unfreeze")  # the card is active
    assert 'class="flash error"' in page and "不能解冻" in page
    assert card_row(console).state == "active"
    assert len(feed(console)) == before
    assert [(actor, outcome) for actor, outcome, _t, _d in card_audits(console)] == [
        ("admin", "refused")
    ]


def test_a_store_manager_reports_a_card_of_another_store_lost(console: Console):
    """A member of SH01 loses the card in Beijing: BJ01's manager (whose till served the
    card) reports it, and it cannot be frozen afterwards (lost is stronger)."""
    bj = console.as_("bj")
    page = press(bj, "lost")
    assert 'data-state="lost"' in page
    assert card_row(console).state_source == "hq:bj"
    page = press(bj, "freeze")
    assert "不能冻结" in page
    assert card_row(console).state == "lost"


def test_the_card_page_speaks_english_when_asked(console: Console):
    admin = console.as_("admin")
    press(admin, "freeze")
    page = admin.client.get(f"{CARD_PAGE}?lang=en").text
    assert "Chain balance" in page and ">frozen<" in page and 'lang="en"' in page
    # The choice is kept in the session.
    assert "Chain balance" in admin.client.get(CARD_PAGE).text
