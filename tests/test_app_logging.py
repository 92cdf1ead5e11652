import logging

from pos_app.app_logging import configure_logging
from pos_app.services import members, stored_value
from pos_app.services.cards import issue_card


def test_log_file_has_the_topup_but_no_full_card_or_mobile(store, tmp_path):
    handler = configure_logging(tmp_path)
    assert handler is not None
    try:
        m = members.register_member(store.ctx, store.cashier, "13812345678", "赵六")
        issue_card(store.ctx, store.cashier, m.member_no, "6222020000001234")
        store.at_till(store.cashier)
        stored_value.top_up(store.ctx, store.cashier, "6222020000001234", 10000)
        logging.getLogger("pos_app").info("stray number 13812345678 in a message")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    text = (tmp_path / "logs" / "pos-app.log").read_text(encoding="utf-8")
    assert "stored_value.topup by cashier on 6222****1234" in text
    assert "6222020000001234" not in text
    assert "13812345678" not in text
    assert "138****5678" in text
