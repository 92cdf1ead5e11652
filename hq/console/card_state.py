"""Lost / freeze / unfreeze from HQ: the card's chain state, its audit record and the feed
change that tells every till, in one transaction.

The audit's detail ({"card_id", "state", "business_time"}) is what conflict detection reads
to find a card used at a till after HQ blocked it, so its shape is part of the contract.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hq.admin import iso
from hq.console.chain_lookup import visible_cards
from hq.console.sign_in import Viewer
from hq.feed_changes import Change, record_changes
from hq.models import ChainCard, HqAudit
from pos_app.domain.card_lifecycle import CardState, mask_card_no, next_state
from pos_app.domain.errors import CardStateError

# The console's buttons and the card_lifecycle actions they are.
ACTIONS = {"lost": "report_lost", "freeze": "freeze", "unfreeze": "unfreeze"}


class CardNotFound(LookupError):
    """No such card, or not one the viewer may see."""


def change_card_state(
    session: Session, viewer: Viewer, card_id: str, action: str, now: datetime
) -> str:
    """Apply `action` ("lost", "freeze", "unfreeze") to the card; the new state. A move
    the card's state does not allow raises CardStateError (audited as refused)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown card action {action!r}")
    query = visible_cards(viewer).where(ChainCard.id == card_id)
    if session.get_bind().dialect.name == "postgresql":
        # The row lock an authorization takes: no hold is granted across the change.
        query = query.with_for_update(of=ChainCard)
    card = session.scalar(query)
    if card is None:
        raise CardNotFound(card_id)
    moment = iso(now)
    try:
        state = next_state(mask_card_no(card.card_no), CardState(card.state), ACTIONS[action])
    except CardStateError:
        session.add(
            HqAudit(
                at=moment,
                actor=viewer.login,
                action="card_state",
                outcome="refused",
                target=card.id,
                detail={"card_id": card.id, "action": action, "refused_in_state": card.state},
            )
        )
        raise
    card.state = state.value
    card.state_at = moment
    card.state_source = f"hq:{viewer.login}"
    card.updated_at = moment
    session.add(
        HqAudit(
            at=moment,
            actor=viewer.login,
            action="card_state",
            outcome="ok",
            target=card.id,
            detail={"card_id": card.id, "state": state.value, "business_time": moment},
        )
    )
    record_changes(session, [Change("card", card.id)], moment)
    return state.value
