"""Card states and the moves between them (PRODUCT §2).

in_stock → active → lost / frozen → active again; active, lost or frozen → replaced (the
balances move to a new card, this one is dead) or cancelled (注销). Replaced and cancelled
are final: such a card can never pay again.
"""

from __future__ import annotations

from enum import StrEnum

from pos_app.domain.errors import CardStateError


class CardState(StrEnum):
    IN_STOCK = "in_stock"
    ACTIVE = "active"
    LOST = "lost"
    FROZEN = "frozen"
    REPLACED = "replaced"
    CANCELLED = "cancelled"


class CardMedia(StrEnum):
    IC = "ic"
    MAGSTRIPE = "magstripe"
    BARCODE = "barcode"
    VIRTUAL = "virtual"


STATE_NAMES = {
    CardState.IN_STOCK: ("库存", "in stock"),
    CardState.ACTIVE: ("正常", "active"),
    CardState.LOST: ("已挂失", "reported lost"),
    CardState.FROZEN: ("已冻结", "frozen"),
    CardState.REPLACED: ("已换卡", "replaced"),
    CardState.CANCELLED: ("已注销", "cancelled"),
}

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[CardState], CardState]] = {
    "issue": (frozenset({CardState.IN_STOCK}), CardState.ACTIVE),
    "report_lost": (frozenset({CardState.ACTIVE, CardState.FROZEN}), CardState.LOST),
    "found": (frozenset({CardState.LOST}), CardState.ACTIVE),
    "freeze": (frozenset({CardState.ACTIVE}), CardState.FROZEN),
    "unfreeze": (frozenset({CardState.FROZEN}), CardState.ACTIVE),
    "replace": (
        frozenset({CardState.ACTIVE, CardState.LOST, CardState.FROZEN}),
        CardState.REPLACED,
    ),
    "cancel": (
        frozenset({CardState.ACTIVE, CardState.LOST, CardState.FROZEN}),
        CardState.CANCELLED,
    ),
}

ACTION_NAMES = {
    "issue": ("发卡", "issue"),
    "report_lost": ("挂失", "report lost"),
    "found": ("解挂", "mark found"),
    "freeze": ("冻结", "freeze"),
    "unfreeze": ("解冻", "unfreeze"),
    "replace": ("换卡", "replace"),
    "cancel": ("注销", "cancel"),
}


def next_state(card_no_masked: str, state: CardState, action: str) -> CardState:
    """The state after `action`, or a clear refusal if the card's state does not allow it."""
    allowed, target = TRANSITIONS[action]
    if state not in allowed:
        zh_state, en_state = STATE_NAMES[state]
        zh_act, en_act = ACTION_NAMES[action]
        raise CardStateError(
            f"卡 {card_no_masked} 当前状态为「{zh_state}」，不能{zh_act}",
            f"Card {card_no_masked} is {en_state}; it cannot be used to {en_act}",
        )
    return target


def check_can_pay(card_no_masked: str, state: CardState) -> None:
    """Only an active card pays; every other state is refused with its reason."""
    if state != CardState.ACTIVE:
        zh_state, en_state = STATE_NAMES[state]
        raise CardStateError(
            f"卡 {card_no_masked} {zh_state}，不能使用",
            f"Card {card_no_masked} is {en_state} and cannot be used",
        )


def mask_card_no(card_no: str) -> str:
    """Card numbers are shown and logged masked: first 4 and last 4 digits only."""
    if len(card_no) <= 8:
        return card_no[:2] + "*" * max(0, len(card_no) - 4) + card_no[-2:]
    return f"{card_no[:4]}****{card_no[-4:]}"
