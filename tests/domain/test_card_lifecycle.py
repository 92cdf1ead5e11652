"""Card states: every allowed move, every refused one, and which cards may pay."""

from __future__ import annotations

import pytest

from pos_app.domain.card_lifecycle import (
    TRANSITIONS,
    CardState,
    check_can_pay,
    mask_card_no,
    next_state,
)
from pos_app.domain.errors import CardStateError

S = CardState
EXPECTED = {
    # (state, action): resulting state; anything missing is refused
    (S.IN_STOCK, "issue"): S.ACTIVE,
    (S.ACTIVE, "report_lost"): S.LOST,
    (S.FROZEN, "report_lost"): S.LOST,
    (S.LOST, "found"): S.ACTIVE,
    (S.ACTIVE, "freeze"): S.FROZEN,
    (S.FROZEN, "unfreeze"): S.ACTIVE,
    (S.ACTIVE, "replace"): S.REPLACED,
    (S.LOST, "replace"): S.REPLACED,
    (S.FROZEN, "replace"): S.REPLACED,
    (S.ACTIVE, "cancel"): S.CANCELLED,
    (S.LOST, "cancel"): S.CANCELLED,
    (S.FROZEN, "cancel"): S.CANCELLED,
}
ACTIONS = sorted(TRANSITIONS)


@pytest.mark.parametrize("state", list(CardState))
@pytest.mark.parametrize("action", ACTIONS)
def test_transition_matrix(state, action):
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(CardStateError):
            next_state("8888****0001", state, action)
    else:
        assert next_state("8888****0001", state, action) is expected


@pytest.mark.parametrize("state", [S.REPLACED, S.CANCELLED])
def test_replaced_and_cancelled_are_final(state):
    for action in ACTIONS:
        with pytest.raises(CardStateError):
            next_state("x", state, action)


def test_a_refusal_names_the_card_and_its_state():
    with pytest.raises(CardStateError) as info:
        next_state("8888****0001", S.LOST, "freeze")
    assert "8888****0001" in info.value.en and "reported lost" in info.value.en
    assert "已挂失" in info.value.zh and "冻结" in info.value.zh


def test_only_an_active_card_pays():
    check_can_pay("x", S.ACTIVE)
    for state in set(CardState) - {S.ACTIVE}:
        with pytest.raises(CardStateError):
            check_can_pay("x", state)


@pytest.mark.parametrize(
    ("card_no", "masked"),
    [
        ("6225880012345678", "6225****5678"),
        ("888800001", "8888****0001"),
        ("88880001", "88****01"),
        ("1234", "1234"),
        ("12345", "12*45"),
    ],
)
def test_mask_card_no(card_no, masked):
    assert mask_card_no(card_no) == masked
