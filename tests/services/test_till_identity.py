"""One installation is one till: its id is set with the store, named by every entry it writes
(and covered by the hash), and carried by its receipt numbers, so two tills of one store
never give the same receipt number and each chain names its own till."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pos_app.domain.errors import InvalidInput, NotInitialized
from pos_app.domain.ledger_chain import HASHED_FIELDS, HASHED_WHEN_SET, chain_hash
from pos_app.domain.receipt_text import render_text
from pos_app.domain.report_text import render_report
from pos_app.domain.till_id import check_till_id, default_till_id
from pos_app.services import reports
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.context import DB_FILENAME, StoreContext, open_store
from pos_app.services.report_printing import report_heading
from pos_app.services.sale_refund import refund_sale
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import init_store
from pos_app.services.verify import verify_ledger
from pos_app.services.vouchers import voucher_for
from tests.conftest import FakeClock, StoreFixture, hand_till_to
from tests.services.support import entries, member_with_card, req


def test_the_first_till_of_a_store_is_its_code_and_01() -> None:
    assert default_till_id("SH01") == "SH01-01"
    assert check_till_id("SH01", " sh01-02 ") == "SH01-02"
    assert check_till_id("SH01", "SH01-99") == "SH01-99"


@pytest.mark.parametrize(
    ("typed", "zh", "en"),
    [
        ("SH01", "收银机编号不正确", "Not a valid till id"),
        ("SH01-2", "收银机编号不正确", "Not a valid till id"),
        ("SH01-002", "收银机编号不正确", "Not a valid till id"),
        ("SH01-00", "收银机编号不正确", "Not a valid till id"),
        ("SH01-0A", "收银机编号不正确", "Not a valid till id"),
        ("SH02-01", "不属于门店 SH01", "is not a till of store SH01"),
        ("SH011-01", "不属于门店 SH01", "is not a till of store SH01"),
        ("-01", "不属于门店 SH01", "is not a till of store SH01"),
    ],
)
def test_a_till_id_not_of_the_store_or_not_two_digits_is_refused(
    typed: str, zh: str, en: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        check_till_id("SH01", typed)
    assert zh in err.value.zh and en in err.value.en


def _new_till(tmp_path: Path, name: str, till: str | None) -> StoreContext:
    ctx = open_store(tmp_path / name, clock=FakeClock(), key_dir=tmp_path / "keys")
    init_store(ctx, "SH01", "上海南京路店", "admin", "secret123", till_id=till)
    return ctx


def test_init_writes_the_till_row_and_every_entry_names_it(tmp_path: Path) -> None:
    ctx = _new_till(tmp_path, "till2", "sh01-02")
    try:
        assert ctx.till_id == "SH01-02"
        con = sqlite3.connect(tmp_path / "till2" / DB_FILENAME)
        try:
            assert con.execute("SELECT id FROM till").fetchall() == [("SH01-02",)]
            rows = con.execute("SELECT till_id FROM ledger_entry").fetchall()
        finally:
            con.close()
        assert rows and set(rows) == {("SH01-02",)}
    finally:
        ctx.engine.dispose()


def test_a_refused_till_id_sets_up_nothing(tmp_path: Path) -> None:
    ctx = open_store(tmp_path / "bad", clock=FakeClock(), key_dir=tmp_path / "keys")
    try:
        with pytest.raises(InvalidInput):
            init_store(ctx, "SH01", "上海南京路店", "admin", "secret123", till_id="SH02-01")
        with pytest.raises(NotInitialized):
            _ = ctx.till_id
        keys = tmp_path / "keys"
        assert not keys.exists() or not list(keys.iterdir())  # no key made for it
    finally:
        ctx.engine.dispose()


def test_two_tills_of_one_store_give_their_own_receipt_numbers_and_chains(
    tmp_path: Path,
) -> None:
    tills = {till: _new_till(tmp_path, till, till) for till in ("SH01-01", "SH01-02")}
    receipts: dict[str, list[str]] = {}
    try:
        for till, ctx in tills.items():
            admin = sign_in(ctx, "admin", "secret123")
            load_demo_catalogue(ctx, admin)
            hand_till_to(ctx, admin, 10000)
            first = sell(ctx, admin, req(("V001", 1)))
            second = sell(ctx, admin, req(("S001", 1)))
            refund = refund_sale(ctx, admin, first.receipt_no)
            receipts[till] = [first.receipt_no, second.receipt_no, refund.receipt_no]
            assert first.receipt.till_id == till
            text = render_text(first.receipt, 32)
            assert f"收银机：{till}" in text
            assert text.splitlines()[-1] == first.receipt_no  # the QR code's text, alone
            assert max(len(line) for line in text.splitlines()) <= 32
            # Each till's chain names that till alone, and verifies.
            con = sqlite3.connect(tmp_path / till / DB_FILENAME)
            try:
                named = {r[0] for r in con.execute("SELECT DISTINCT till_id FROM ledger_entry")}
            finally:
                con.close()
            assert named == {till}
            report = verify_ledger(ctx)
            assert report.ok, report.problems
            assert report.till_id == till
        assert receipts["SH01-01"] == [
            "SH01-01-260302-0001",
            "SH01-01-260302-0002",
            "SH01-01-260302-0003",
        ]
        assert receipts["SH01-02"] == [
            "SH01-02-260302-0001",
            "SH01-02-260302-0002",
            "SH01-02-260302-0003",
        ]
        assert not set(receipts["SH01-01"]) & set(receipts["SH01-02"])
    finally:
        for ctx in tills.values():
            ctx.engine.dispose()


def test_the_hash_covers_the_till(store: StoreFixture) -> None:
    """Every entry written now names the till; its hash is over the till too, so moving an
    entry to another till's name breaks it."""
    for row in entries(store):
        fields = {name: getattr(row, name) for name in (*HASHED_FIELDS, *HASHED_WHEN_SET)}
        assert row.till_id == "SH01-01"
        assert chain_hash(row.prev_hash, fields) == row.hash
        assert chain_hash(row.prev_hash, {**fields, "till_id": "SH01-02"}) != row.hash


def test_z_reports_and_vouchers_show_the_till(store: StoreFixture) -> None:
    store.at_till(store.cashier)
    member_with_card(store, topup_fen=10000)
    report = reports.x_report(store.ctx, store.cashier)
    heading = report_heading(store.ctx, report)
    assert heading.till_id == "SH01-01"
    text = render_report(heading, report.figures, 32)
    assert "收银机：SH01-01" in text
    assert "Till: SH01-01" in render_report(heading, report.figures, 32, "en")
    topup = entries(store, "topup")[-1]
    voucher = voucher_for(store.ctx, store.cashier, topup.entry_id)
    assert voucher.voucher_no == f"SH01-01-V{topup.store_seq:07d}"


def test_pos_app_init_takes_the_till_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    from tests.test_cli import Cli, one_json

    base = (
        "init --store-code sh01 --store-name 上海南京路店 --admin-login boss "
        "--admin-password boss12345"
    )
    second = Cli(tmp_path / "second").json(f"{base} --till sh01-02")
    assert (second["store_code"], second["till"]) == ("SH01", "SH01-02")
    first = Cli(tmp_path / "first").run(base)
    assert first.exit_code == 0 and "收银机 Till" in first.stdout and "SH01-01" in first.stdout
    wrong = Cli(tmp_path / "wrong").run(f"--json {base} --till SH02-01")
    assert wrong.exit_code == 2
    assert one_json(wrong.stdout)["error"] == "invalid_input"
    assert "不属于门店 SH01" in wrong.stderr
    assert not (tmp_path / "wrong").exists()  # nothing set up
    english = Cli(tmp_path / "english").run(f"{base} --till SH01-1", lang="en")
    assert english.exit_code == 2 and "Not a valid till id" in english.stderr
