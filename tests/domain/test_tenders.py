"""Split tender: who pays what, change, and the refusals."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InsufficientBalance, InvalidInput
from pos_app.domain.sale_request import TenderRequest as T
from pos_app.domain.tenders import TenderLimits, plan_tenders, points_for, points_max_fen


def plan(total, *tenders, **limits):
    return plan_tenders(total, list(tenders), TenderLimits(**limits))


def test_cash_gives_change():
    p = plan(1250, T("cash", 2000))
    assert [(t.tender, t.amount_fen, t.given_fen) for t in p.tenders] == [("cash", 1250, 2000)]
    assert p.change_fen == 750 and p.cash_given_fen == 2000


def test_stored_value_short_rest_in_cash():
    p = plan(10000, T("stored_value"), T("cash"), stored_value_fen=6000)
    assert [(t.tender, t.amount_fen) for t in p.tenders] == [("stored_value", 6000), ("cash", 4000)]
    assert p.change_fen == 0


def test_amountless_takes_what_explicit_ones_leave():
    p = plan(12000, T("stored_value"), T("cash", 10000), stored_value_fen=50000)
    assert p.amount("stored_value") == 2000 and p.amount("cash") == 10000


def test_wechat_with_reference_takes_the_rest():
    p = plan(5000, T("stored_value", 1000), T("wechat", reference="WX123"), stored_value_fen=1000)
    assert p.tenders[1].reference == "WX123" and p.amount("wechat") == 4000


def test_refusals():
    with pytest.raises(InsufficientBalance):
        plan(10000, T("stored_value"), stored_value_fen=6000)
    with pytest.raises(InsufficientBalance):
        plan(3000, T("stored_value", 2000), T("cash"), stored_value_fen=1500)
    with pytest.raises(InvalidInput):
        plan(1000, T("stored_value", 2000), stored_value_fen=5000)  # more than owed
    with pytest.raises(InvalidInput):
        plan(1000, T("wechat", 2000))  # non-cash never pays more than owed
    with pytest.raises(InvalidInput):
        plan(1000, T("stored_value"))  # no card at the till
    with pytest.raises(InvalidInput):
        plan(1000)
    with pytest.raises(InvalidInput):
        plan(1000, T("bank", 1000), T("cash", 500))  # already paid: cash would all be change


def test_points_within_share_and_rate():
    assert points_max_fen(5000, 0, 100, 50, 3000) == 1500
    assert points_max_fen(1000, 0, 100, 50, 3000) == 1000
    assert points_max_fen(5000, 10, 100, 50, 3000) == 0  # a negative balance blocks redemption
    p = plan(3000, T("points"), T("cash"), points_max_fen=1500)
    assert p.amount("points") == 1500 and p.amount("cash") == 1500
    assert points_for(1500, 100) == 1500 and points_for(101, 50) == 51


def test_count_card_pays_its_lines_first():
    p = plan(8000, T("cash"), T("count_card"), pass_cover_fen=5000)
    assert p.amount("count_card") == 5000 and p.amount("cash") == 3000
    with pytest.raises(InvalidInput):
        plan(8000, T("count_card"), T("cash"))  # nothing to cover
    with pytest.raises(InvalidInput):
        plan(8000, T("count_card", 100), pass_cover_fen=5000)
