"""Mirror entries (docs/chain-protocol.md): what other tills did reaches a card and a member's
points as `card_synced` / `points_synced` entries of this till's own ledger, signed by
`hq-sync`; applying the same external value twice writes nothing; verify replays them; and
they move no money in this store's figures."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from db.engine import read_session
from db.models import Card, Member, Operator
from pos_app.domain.entry_kinds import HQ_SYNC_LOGIN, EntryKind
from pos_app.domain.permissions import Permission
from pos_app.services.chain_mirror import apply_card_external, apply_member_external_points
from pos_app.services.credentials import verify_secret
from pos_app.services.liabilities import liabilities
from pos_app.services.member_history import member_history
from pos_app.services.points import adjust_points
from pos_app.services.reports import x_report
from pos_app.services.use_case import use_case
from pos_app.services.verify import verify_ledger
from tests.conftest import StoreFixture
from tests.services.support import buckets, card_row, entries, lots, member_row, member_with_card

CARD = "88880001"


def _card_external(store: StoreFixture, principal: int, bonus: int, **kw: object) -> object:
    with use_case(store.ctx, store.manager, Permission.SYNC_SETUP) as uc:
        card = uc.session.scalars(select(Card).where(Card.card_no == CARD)).one()
        entry = apply_card_external(
            uc, card, external_principal_fen=principal, external_bonus_fen=bonus, **kw
        )
        return None if entry is None else entry.entry_id


def _points_external(store: StoreFixture, member_no: str, points: int) -> object:
    with use_case(store.ctx, store.manager, Permission.SYNC_SETUP) as uc:
        member = uc.session.scalars(select(Member).where(Member.member_no == member_no)).one()
        entry = apply_member_external_points(uc, member, external_points=points, change=7)
        return None if entry is None else entry.entry_id


def _verified(store: StoreFixture) -> None:
    report = verify_ledger(store.ctx)
    assert report.ok, [f"{p.where}: {p.message}" for p in report.problems]


def test_card_mirror_moves_the_card_by_the_change_in_external_value(store: StoreFixture) -> None:
    member_with_card(store, CARD, topup_fen=10_000)
    own = buckets(store, CARD)

    assert _card_external(store, 5_000, 500, change=3) is not None
    assert buckets(store, CARD) == (own[0] + 5_000, own[1] + 500)
    mirror = entries(store, EntryKind.CARD_SYNCED)[-1]
    assert (mirror.principal_delta, mirror.bonus_delta) == (5_000, 500)
    with read_session(store.ctx.engine) as s:
        op = s.get(Operator, mirror.operator_id)
        assert op is not None and op.login == HQ_SYNC_LOGIN and not op.active
        assert op.role == "cashier" and not verify_secret("", op.password_hash)

    # The same value again writes nothing; a lower one writes only the difference.
    before = len(entries(store))
    assert _card_external(store, 5_000, 500) is None
    assert len(entries(store)) == before
    assert _card_external(store, 3_000, 500) is not None
    assert buckets(store, CARD) == (own[0] + 3_000, own[1] + 500)
    assert entries(store, EntryKind.CARD_SYNCED)[-1].principal_delta == -2_000
    # One hq-sync operator, made once.
    with read_session(store.ctx.engine) as s:
        assert len(s.scalars(select(Operator).where(Operator.login == HQ_SYNC_LOGIN)).all()) == 1
    _verified(store)


def test_card_mirror_sets_the_chain_state_and_verify_replays_it(store: StoreFixture) -> None:
    member_with_card(store, CARD, topup_fen=10_000)
    _card_external(store, 0, 0, state="lost", state_source="SH02-01")
    assert card_row(store, CARD).state == "lost"
    # An overspend elsewhere: the external value takes the local balance below zero (a debt),
    # which verify accepts on a mirrored card.
    _card_external(store, -13_000, 0, state="lost")
    assert buckets(store, CARD)[0] == 10_000 - 13_000
    _verified(store)
    _card_external(store, -13_000, 0, state="active")
    assert card_row(store, CARD).state == "active"
    _verified(store)


def test_points_mirror_uses_one_chain_lot_then_other_lots_then_debt(store: StoreFixture) -> None:
    member = member_with_card(store, CARD)
    adjust_points(store.ctx, store.manager, member.member_no, 100, "own")

    _points_external(store, member.member_no, 300)
    assert member_row(store, member.member_no).points_balance == 400
    chain_lot = lots(store, member.member_no)[-1]
    assert (chain_lot.remaining, chain_lot.expires_on) == (300, None)
    assert _points_external(store, member.member_no, 300) is None
    _points_external(store, member.member_no, 500)  # a rise goes to the same lot
    assert [lot.remaining for lot in lots(store, member.member_no)] == [100, 500]

    # A fall of 650: the chain lot's 500, then the own lot's 100, then 50 of debt.
    _points_external(store, member.member_no, -150)
    row = member_row(store, member.member_no)
    assert (row.points_balance, row.points_debt) == (-50, 50)
    assert [lot.remaining for lot in lots(store, member.member_no)] == [0, 0]
    _verified(store)
    # A rise pays the debt first, as an earning would.
    _points_external(store, member.member_no, 0)
    row = member_row(store, member.member_no)
    assert (row.points_balance, row.points_debt) == (100, 0)
    assert [lot.remaining for lot in lots(store, member.member_no)] == [0, 100]
    _verified(store)


def test_a_first_fall_makes_an_empty_chain_lot(store: StoreFixture) -> None:
    member = member_with_card(store, CARD)
    adjust_points(store.ctx, store.manager, member.member_no, 100, "own")
    _points_external(store, member.member_no, -40)
    assert [lot.remaining for lot in lots(store, member.member_no)] == [60, 0]
    _points_external(store, member.member_no, 10)
    assert [lot.remaining for lot in lots(store, member.member_no)] == [60, 50]
    assert member_row(store, member.member_no).points_balance == 110
    _verified(store)


def test_mirrors_move_no_money_in_the_store_figures(store: StoreFixture) -> None:
    member = member_with_card(store, CARD, topup_fen=10_000)
    adjust_points(store.ctx, store.manager, member.member_no, 100, "own")
    figures_before = x_report(store.ctx, store.cashier).figures
    owed_before = liabilities(store.ctx, store.manager)

    _card_external(store, 40_000, 4_000)
    _points_external(store, member.member_no, 900)

    figures_after = x_report(store.ctx, store.cashier).figures
    assert replace(figures_after, end=figures_before.end) == figures_before
    owed = liabilities(store.ctx, store.manager)
    assert (owed.sv_principal_fen, owed.sv_bonus_fen, owed.points) == (
        owed_before.sv_principal_fen,
        owed_before.sv_bonus_fen,
        owed_before.points,
    )
    # The member's history shows what the other stores did, as theirs.
    history = member_history(store.ctx, store.cashier, member.member_no)
    kinds = [line.kind for line in history.lines]
    assert EntryKind.CARD_SYNCED.value in kinds and EntryKind.POINTS_SYNCED.value in kinds
    _verified(store)


def test_a_member_of_another_store_takes_the_tier_hq_knows(store: StoreFixture) -> None:
    member = member_with_card(store, CARD)
    with use_case(store.ctx, store.manager, Permission.SYNC_SETUP) as uc:
        row = uc.session.scalars(select(Member).where(Member.member_no == member.member_no)).one()
        first = apply_member_external_points(uc, row, external_points=0, tier_code="gold")
        assert first is not None and first.points_delta == 0
        assert apply_member_external_points(uc, row, external_points=0, tier_code="gold") is None
    assert member_row(store, member.member_no).tier_code == "gold"
    _verified(store)
