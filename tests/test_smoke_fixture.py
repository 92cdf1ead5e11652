from pos_app.services import members, stored_value
from pos_app.services.cards import issue_card
from pos_app.services.verify import verify_ledger


def test_fixture_store_tops_up_with_example_bonus(store):
    m = members.register_member(store.ctx, store.cashier, "13800138000", "张三")
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    store.at_till(store.cashier)
    result = stored_value.top_up(store.ctx, store.cashier, "88880001", 50000)
    assert (result.amount_fen, result.bonus_fen) == (50000, 5000)
    assert verify_ledger(store.ctx).ok
