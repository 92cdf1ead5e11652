"""Member import from CSV: validation report, all-or-nothing, only-valid, opening balances,
chunked commits, conflicts that appear while importing, the ledger staying verifiable, and
finding imported members fast by card and mobile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import Card, Counter, LedgerEntry, Member, PointLot
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from pos_app.domain.ledger_chain import chain_hash
from pos_app.domain.permissions import Role
from pos_app.services import members, points, stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.member_import import ImportResult, import_members
from pos_app.services.verify import verify_ledger
from tests.conftest import StoreFixture

HEADER = "mobile,name,card_no,media,birthday,gender,principal,bonus,points\n"


def write_csv(tmp_path: Path, text: str, name: str = "members.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def count(store: StoreFixture, model: type) -> int:
    with read_session(store.ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def errors_of(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in result.errors]


def assert_verified(store: StoreFixture) -> None:
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems


def test_small_file_imports_members_cards_and_opening_balances(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        HEADER
        + "13800138001,张三,88010001,ic,1985-04-12,male,500,50,120\n"
        + "138 0013 8002,李四,88010002,magstripe,,女,,,\n"
        + "13800138003,王芳,88010003,,,, 12.50 ,0,0\n",
        bom=True,
    )
    result = import_members(store.ctx, store.admin, path)
    assert result.ok and result.errors == []
    assert (result.rows, result.valid_rows, result.imported, result.skipped) == (3, 3, 3, 0)
    assert result.entries == 3 * 2 + 2  # two rows carry opening balances
    assert (result.opening_principal_fen, result.opening_bonus_fen) == (51250, 5000)
    assert result.opening_points == 120
    assert (result.first_member_no, result.last_member_no) == ("SH010000001", "SH010000003")

    first = stored_value.balance(store.ctx, store.manager, "88010001")
    assert (first.principal_fen, first.bonus_fen, first.points) == (50000, 5000, 120)
    assert (first.member_name, first.card_state, first.tier) == ("张三", "active", "normal")
    view = members.show_member(store.ctx, store.manager, mobile="13800138002")
    assert (view.name, view.gender, view.birthday) == ("李四", "female", None)
    assert view.cards[0].media == "magstripe" and view.cards[0].stored_value_fen == 0
    third = stored_value.balance(store.ctx, store.manager, "88010003")
    assert (third.principal_fen, third.bonus_fen, third.points) == (1250, 0, 0)
    assert_verified(store)

    with read_session(store.ctx.engine) as s:
        kinds = s.scalars(
            select(LedgerEntry.kind)
            .where(LedgerEntry.kind != EntryKind.OPERATOR_CHANGED)
            .order_by(LedgerEntry.store_seq)
        ).all()
        opening = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.kind == EntryKind.OPENING_BALANCE)
            .order_by(LedgerEntry.store_seq)
        ).all()
        registered = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.kind == EntryKind.MEMBER_REGISTERED)
            .order_by(LedgerEntry.store_seq)
        ).first()
        assert registered is not None and json.loads(registered.payload or "") == {
            "member_no": "SH010000001",
            "referrer_id": None,
            "tier": "normal",
        }
        with_points = json.loads(opening[0].payload or "")
        assert with_points["debt_paid"] == 0 and with_points["expires_on"] == "2027-03-02"
        assert json.loads(opening[1].payload or "") == {"source": "member_import"}
        # Every entry's hash is the ordinary chain hash (the bulk path must not differ).
        for entry in opening:
            fields = {c.name: getattr(entry, c.name) for c in LedgerEntry.__table__.columns}
            assert chain_hash(entry.prev_hash, fields) == entry.hash
            assert entry.till_id == "SH01-01"
    assert kinds == [
        "member_registered",
        "card_issued",
        "opening_balance",
        "member_registered",
        "card_issued",
        "member_registered",
        "card_issued",
        "opening_balance",
    ]


def test_member_numbers_continue_the_counter_and_the_till_continues_after(
    store: StoreFixture, tmp_path: Path
) -> None:
    before = members.register_member(store.ctx, store.cashier, "13900139000", "先到")
    path = write_csv(tmp_path, "mobile,name,card_no\n13800138001,甲,88020001\n")
    result = import_members(store.ctx, store.admin, path)
    assert before.member_no == "SH010000001"
    assert result.first_member_no == "SH010000002"
    after = members.register_member(store.ctx, store.cashier, "13900139001", "后到")
    assert after.member_no == "SH010000003"
    with read_session(store.ctx.engine) as s:
        assert s.get(Counter, "member_no").value == 3  # type: ignore[union-attr]
    assert_verified(store)


def test_a_file_with_errors_imports_nothing_and_names_row_column_reason(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        HEADER
        + "13800138001,张三,88030001,ic,,,100,,\n"  # row 2: fine
        + "12345,李四,88030002,ic,,,,,\n"  # row 3: bad mobile
        + "13800138001,王五,88030003,ic,,,,,\n"  # row 4: mobile repeats row 2
        + "13800138004,赵六,88-03,ic,,,,,\n"  # row 5: bad card number
        + "13800138005,钱七,88030001,ic,,,,,\n"  # row 6: card repeats row 2
        + "13800138006,孙八,88030006,ic,,,12.345,-1,\n"  # row 7: two bad amounts
        + "13800138007,周九,88030007,nfc,1990-13-01,unknown,,,1.5\n"  # row 8: four problems
        + "13800138008,,88030008,ic,,,,,\n"  # row 9: no name
        + "13800138009,吴十,88030009\n",  # row 10: too few fields
    )
    entries_before = count(store, LedgerEntry)
    result = import_members(store.ctx, store.admin, path)
    assert not result.ok and result.imported == 0 and result.chunks == 0
    assert (result.rows, result.valid_rows, result.skipped) == (9, 1, 9)
    assert errors_of(result) == [
        (3, "mobile"),
        (4, "mobile"),
        (5, "card_no"),
        (6, "card_no"),
        (7, "principal"),
        (7, "bonus"),
        (8, "media"),
        (8, "birthday"),
        (8, "gender"),
        (8, "points"),
        (9, "name"),
        (10, ""),
    ]
    by_place = {(e.row, e.column): e for e in result.errors}
    assert "also on row 2" in by_place[(4, "mobile")].reason
    assert "与第 2 行重复" in by_place[(4, "mobile")].reason_zh
    assert "also on row 2" in by_place[(6, "card_no")].reason
    assert "two decimals" in by_place[(7, "principal")].reason
    assert by_place[(7, "principal")].value == "12.345"
    assert "3 fields where the header has 9" in by_place[(10, "")].reason
    assert by_place[(3, "mobile")].message("en").startswith("row 3, mobile: ")
    assert by_place[(3, "mobile")].message("zh").startswith("第 3 行，mobile：")
    assert count(store, Member) == 0 and count(store, LedgerEntry) == entries_before


def test_control_characters_and_loose_numbers_are_refused_row_by_row(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        HEADER
        + "13800138001,张\x1b[2J三,88040001,ic,,,,,\n"  # row 2: ESC in the name
        + "13800138002,\u202eexe.png,88040002,ic,,,,,\n"  # row 3: a bidi override
        + '13800138003,"李\r四",88040003,ic,,,,,\n'  # row 4: CR inside a quoted cell
        + '13800138004,王五,88040004,ic,,,"50,00",,\n'  # row 5: not ¥5,000
        + "13800138005,赵六,88040005,ic,,,1e2,5_0,\n"  # row 6: exponent, underscore
        + "13800138006,钱七,88040006,ic,,,,,²\n"  # row 7: isdigit() but not int()
        + '13800138007,孙八,88040007,ic,,,"1,000.50",,１２\n',  # row 8: fine
    )
    result = import_members(store.ctx, store.admin, path, dry_run=True)
    assert errors_of(result) == [
        (2, "name"),
        (3, "name"),
        (4, "name"),
        (5, "principal"),
        (6, "principal"),
        (6, "bonus"),
        (7, "points"),
    ]
    by_place = {(e.row, e.column): e for e in result.errors}
    assert "control characters" in by_place[(2, "name")].reason
    assert "\x1b" not in by_place[(2, "name")].reason  # shown as an escape, not obeyed
    assert "only separates thousands" in by_place[(5, "principal")].reason
    assert result.valid_rows == 1


def test_only_valid_imports_the_good_rows_and_reports_the_rest(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "mobile,name,card_no,principal\n"
        "13800138001,张三,88040001,100\n"
        "not-a-phone,李四,88040002,100\n"
        "13800138003,王五,88040003,abc\n"
        "13800138004,赵六,88040004,\n",
    )
    result = import_members(store.ctx, store.admin, path, only_valid=True)
    assert (result.rows, result.valid_rows, result.imported, result.skipped) == (4, 2, 2, 2)
    assert errors_of(result) == [(3, "mobile"), (4, "principal")]
    assert result.opening_principal_fen == 10000
    assert count(store, Member) == 2
    mobiles = {m.mobile for m in _members(store)}
    assert mobiles == {"13800138001", "13800138004"}
    assert_verified(store)


def test_mobiles_and_cards_already_in_the_store_are_reported(
    store: StoreFixture, tmp_path: Path
) -> None:
    existing = members.register_member(store.ctx, store.cashier, "13800138001", "老会员")
    issue_card(store.ctx, store.cashier, existing.member_no, "88050009")
    path = write_csv(
        tmp_path,
        "mobile,name,card_no\n"
        "13800138001,张三,88050001\n"  # mobile already a member
        "13800138002,李四,88050009\n"  # card already exists
        "13800138003,王五,88050003\n",
    )
    refused = import_members(store.ctx, store.admin, path)
    assert refused.imported == 0
    assert errors_of(refused) == [(2, "mobile"), (3, "card_no")]
    assert "already a member" in refused.errors[0].reason
    assert "已是会员" in refused.errors[0].reason_zh
    assert "already exists" in refused.errors[1].reason
    assert count(store, Member) == 1

    partial = import_members(store.ctx, store.admin, path, only_valid=True)
    assert (partial.imported, partial.skipped) == (1, 2)
    assert members.show_member(store.ctx, store.manager, card_no="88050003").name == "王五"
    assert_verified(store)


def test_running_the_same_file_again_imports_only_what_is_missing(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "mobile,name,card_no\n13800138001,甲,88060001\n")
    assert import_members(store.ctx, store.admin, path).imported == 1
    bigger = write_csv(
        tmp_path,
        "mobile,name,card_no\n13800138001,甲,88060001\n13800138002,乙,88060002\n",
        name="bigger.csv",
    )
    again = import_members(store.ctx, store.admin, bigger, only_valid=True)
    assert (again.imported, again.skipped) == (1, 1)
    assert errors_of(again) == [(2, "mobile"), (2, "card_no")]
    assert count(store, Member) == 2
    assert_verified(store)


def test_progress_is_reported_per_chunk_and_chunks_commit_whole_rows(
    store: StoreFixture, tmp_path: Path
) -> None:
    rows = "".join(f"1380013{i:04d},会员{i},8807{i:04d},ic,,,10,1,5\n" for i in range(7))
    path = write_csv(tmp_path, HEADER + rows)
    calls: list[tuple[int, int]] = []
    result = import_members(
        store.ctx, store.admin, path, progress=lambda d, t: calls.append((d, t)), chunk_rows=3
    )
    assert calls == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert (result.imported, result.chunks, result.entries) == (7, 3, 21)
    assert count(store, PointLot) == 7
    assert_verified(store)


def test_dry_run_validates_and_writes_nothing(store: StoreFixture, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "mobile,name,card_no\n13800138001,甲,88080001\n")
    result = import_members(store.ctx, store.admin, path, dry_run=True)
    assert result.dry_run and result.ok and (result.valid_rows, result.imported) == (1, 0)
    assert count(store, Member) == 0


def test_chinese_headers_and_an_unnamed_trailing_column(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path, "手机号,姓名,卡号,本金,赠送金,积分,\n13700137001,王五,55550001,100,10,20,\n"
    )
    result = import_members(store.ctx, store.admin, path)
    assert result.ok and result.imported == 1
    shown = stored_value.balance(store.ctx, store.manager, "55550001")
    assert (shown.principal_fen, shown.bonus_fen, shown.points) == (10000, 1000, 20)


def test_header_problems_refuse_the_file(store: StoreFixture, tmp_path: Path) -> None:
    result = import_members(
        store.ctx, store.admin, write_csv(tmp_path, "mobile,nickname\n13800138001,x\n")
    )
    assert result.imported == 0
    assert errors_of(result) == [(1, "nickname"), (1, "name"), (1, "card_no")]
    empty = import_members(store.ctx, store.admin, write_csv(tmp_path, "", name="empty.csv"))
    assert errors_of(empty) == [(1, "")] and empty.imported == 0


def test_a_file_that_is_not_utf8_is_refused(store: StoreFixture, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("mobile,name,card_no\n13800138001,张三,88090001\n".encode("gbk"))
    with pytest.raises(InvalidInput, match="UTF-8"):
        import_members(store.ctx, store.admin, path)
    assert count(store, Member) == 0


def test_opening_points_are_a_lot_that_can_be_redeemed(store: StoreFixture, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "mobile,name,card_no,points\n13800138001,张三,88100001,500\n")
    import_members(store.ctx, store.admin, path)
    with read_session(store.ctx.engine) as s:
        lot = s.scalars(select(PointLot)).one()
        entry = s.get(LedgerEntry, lot.id)
        assert (lot.points, lot.remaining, lot.expires_on) == (500, 500, "2027-03-02")
        assert entry is not None and entry.kind == EntryKind.OPENING_BALANCE
        assert lot.seq == entry.store_seq
        lot_id = lot.id
    redeemed = points.redeem_points(store.ctx, store.cashier, 300, "兑换礼品", card_no="88100001")
    assert redeemed.points_balance == 200
    with read_session(store.ctx.engine) as s:
        assert s.get(PointLot, lot_id).remaining == 200  # type: ignore[union-attr]
    assert_verified(store)


def test_imported_stored_value_pays_at_the_till(store: StoreFixture, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "mobile,name,card_no,principal,bonus\n13800138001,张三,88110001,80,20\n"
    )
    import_members(store.ctx, store.admin, path)
    paid = stored_value.pay_with_stored_value(store.ctx, store.cashier, "88110001", 9000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (8000, 1000)
    assert paid.balance.stored_value_fen == 1000
    assert_verified(store)


def test_only_an_admin_may_import(store: StoreFixture, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "mobile,name,card_no\n13800138001,甲,88120001\n")
    for actor in (store.manager, store.cashier):
        with pytest.raises(PermissionDenied):
            import_members(store.ctx, actor, path)
    assert count(store, Member) == 0


def _seven_rows(tmp_path: Path) -> Path:
    rows = "".join(f"1380013{i:04d},会员{i},8813{i:04d}\n" for i in range(7))
    return write_csv(tmp_path, "mobile,name,card_no\n" + rows)


def test_a_member_registered_at_the_till_during_the_import_stops_it_cleanly(
    store: StoreFixture, tmp_path: Path
) -> None:
    """Between chunks the till registers a mobile that is in a later chunk: the import stops
    there; the chunks before stay, whole; the ledger verifies."""

    def till(done: int, total: int) -> None:
        if done == 3:
            members.register_member(store.ctx, store.cashier, "13800130005", "抢先")

    result = import_members(store.ctx, store.admin, _seven_rows(tmp_path), till, chunk_rows=3)
    assert result.stopped_at_row == 5  # the first row of the chunk that met the conflict
    assert result.imported == 3 and result.chunks == 1
    assert errors_of(result) == [(7, "mobile")]
    assert count(store, Member) == 4 and count(store, Card) == 3
    assert_verified(store)


def test_with_only_valid_a_conflict_during_the_import_is_skipped(
    store: StoreFixture, tmp_path: Path
) -> None:
    def till(done: int, total: int) -> None:
        if done == 3:
            members.register_member(store.ctx, store.cashier, "13800130005", "抢先")
        if done == 6:  # a write that conflicts with nothing: the next chunk is rebuilt
            members.register_member(store.ctx, store.cashier, "13900139999", "路过")

    result = import_members(
        store.ctx, store.admin, _seven_rows(tmp_path), till, only_valid=True, chunk_rows=3
    )
    assert result.stopped_at_row is None
    assert (result.imported, result.skipped) == (6, 1)
    assert errors_of(result) == [(7, "mobile")]
    assert count(store, Member) == 8
    numbers = sorted(m.member_no for m in _members(store))
    assert numbers == [f"SH01{i:07d}" for i in range(1, 9)]  # no gaps, no repeats
    assert_verified(store)


def test_a_mobile_changed_without_a_ledger_entry_is_caught_by_the_database(
    store: StoreFixture, tmp_path: Path
) -> None:
    """Editing a profile writes no ledger entry, so the chain head does not warn the import;
    the unique index refuses the chunk, which is rolled back whole and checked again."""

    def till(done: int, total: int) -> None:
        if done == 3:
            members.update_member(store.ctx, store.manager, "SH010000001", mobile="13800130004")

    result = import_members(
        store.ctx, store.admin, _seven_rows(tmp_path), till, only_valid=True, chunk_rows=3
    )
    assert (result.imported, result.skipped, result.stopped_at_row) == (6, 1, None)
    assert errors_of(result) == [(6, "mobile")]
    assert count(store, Member) == 6
    assert_verified(store)


def _members(store: StoreFixture) -> list[Member]:
    with read_session(store.ctx.engine) as s:
        rows = list(s.scalars(select(Member)))
        for m in rows:
            s.expunge(m)
        return rows


def test_imported_members_are_found_fast_by_card_and_mobile(
    store: StoreFixture, tmp_path: Path
) -> None:
    """`lookup_by_card` / `lookup_by_mobile` (the till's fast path used on big stores) give
    exactly what `show_member` gives, with the same permission and refusals."""
    path = write_csv(
        tmp_path,
        "mobile,name,card_no,principal,bonus,points\n"
        "13800138001,张三,88140001,100,10,20\n"
        "13800138002,李四,88140002,,,\n",
    )
    import_members(store.ctx, store.admin, path)
    # A referral, a second card with a PIN, and a member with no card at all.
    joined = members.register_member(
        store.ctx, store.cashier, "13800138003", "王五", referrer_no="SH010000001"
    )
    issue_card(store.ctx, store.cashier, joined.member_no, "88140003")
    issue_card(store.ctx, store.cashier, joined.member_no, "88140004", pin="135790")
    members.register_member(store.ctx, store.cashier, "13800138005", "无卡")

    for actor in (store.cashier, store.manager):
        for card_no in ("88140001", "88140002", "88140004", "88140003"):
            fast = members.lookup_by_card(store.ctx, actor, card_no)
            assert fast == members.show_member(store.ctx, actor, card_no=card_no)
        for mobile in ("13800138001", "138 0013 8003", "13800138005"):
            fast = members.lookup_by_mobile(store.ctx, actor, mobile)
            assert fast == members.show_member(store.ctx, actor, mobile=mobile)

    shown = members.lookup_by_card(store.ctx, store.cashier, "88140004")
    assert (shown.member_no, shown.referrer_no, shown.mobile) == (
        joined.member_no,
        "SH010000001",
        "138****8003",  # masked for a cashier
    )
    assert [c.card_no for c in shown.cards] == ["88140003", "88140004"]
    assert [c.pin_set for c in shown.cards] == [False, True]
    first = members.lookup_by_mobile(store.ctx, store.manager, "13800138001")
    assert (first.mobile, first.tier_name, first.points) == ("13800138001", "普通会员", 20)
    assert first.cards[0].stored_value_fen == 11000
    assert members.lookup_by_mobile(store.ctx, store.cashier, "13800138005").cards == ()

    with pytest.raises(NotFound):
        members.lookup_by_card(store.ctx, store.cashier, "99999999")
    with pytest.raises(NotFound):
        members.lookup_by_mobile(store.ctx, store.cashier, "13911112222")
    with pytest.raises(InvalidInput):
        members.lookup_by_card(store.ctx, store.cashier, "no!")
    ghost = Actor("not-an-operator", "ghost", "幽灵", Role.ADMIN)
    with pytest.raises(AuthenticationFailed):
        members.lookup_by_card(store.ctx, ghost, "88140001")
