"""Import members with their cards (and opening balances) from a CSV file.

The file is UTF-8 (a BOM is tolerated) with a header row. Columns, in any order:

    mobile, name, card_no            required
    media                            ic / magstripe / barcode / virtual (default ic)
    birthday                         YYYY-MM-DD
    gender                           male / female / other (男 / 女 / 其他 too)
    principal, bonus                 opening stored value in yuan ("120.50"), default 0
    points                           opening points (a whole number), default 0

Chinese headers are accepted too (手机号, 姓名, 卡号, 介质, 生日, 性别, 本金, 赠送金, 积分).

How it works:

1. Every row is validated first, against the file and against the database: a bad mobile,
   a mobile twice in the file or already a member, a bad or duplicate card number, a bad
   amount … each is reported with its row number (the header is row 1, as in a
   spreadsheet), its column and the reason. A file with any error imports nothing, unless
   `only_valid=True`, which imports the good rows and reports the others as skipped.
2. The rows are then written in chunks, each chunk one transaction (BEGIN IMMEDIATE …
   COMMIT): members, their cards, and per row the ledger entries `member_registered`,
   `card_issued` and — when the row carries balances — `opening_balance` (stored value
   onto the card, points as a points lot that expires like earned points). A chunk holds
   whole rows only, so a crash or power cut leaves a prefix of the file imported, never
   half a member. Running the same file again with `only_valid=True` then imports exactly
   the rows that are missing (the imported ones are reported as already present).
3. Between chunks other operators (the tills) can write; if the database changed since
   validation, each later chunk re-checks its mobiles and card numbers inside its own
   transaction. A row that became a duplicate is skipped (only_valid) or stops the import
   at that chunk (otherwise); the result says how far it got.

Speed (a million members with cards in about 40 s on a 2-core machine) comes from:
- a fast path in validation for clean rows (the domain's own checks for anything else);
- plain executemany inserts, one statement per table per chunk, on an engine of the import's
  own with a larger page cache;
- ids made in bulk (`_Ids`: valid UUIDv7s from one `uuid7()` per chunk);
- hashing through a template of the canonical bytes (`_Template`: derived from
  `pos_app.domain.ledger_chain.canonical_bytes` itself, so one string format and one SHA-256
  per entry instead of a JSON encoding of each); the first entry of each kind in every
  chunk is re-hashed the ordinary way (`chain_hash`) and the import stops if they differ;
- building the next chunk's rows on a thread while the current chunk commits (the commit
  waits on the disk with the GIL released). A chunk built ahead is used only if its
  transaction finds the chain head, member counter and rules exactly as expected;
  otherwise it is built again inside the transaction.
`verify` checks every imported entry afterwards like any other.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from uuid6 import uuid7

from db.engine import make_engine, read_session
from db.ledger import canonical_payload
from db.models import Card, Counter, LedgerEntry, Member
from pos_app.domain.card_lifecycle import CardMedia, CardState, mask_card_no
from pos_app.domain.control_chars import has_control_chars
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import DomainError, InvalidInput, PermissionDenied
from pos_app.domain.ledger_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    MacChecker,
    canonical_bytes,
    chain_hash,
)
from pos_app.domain.members import (
    check_card_no,
    check_name,
    mask_mobile,
    normalize_mobile,
    parse_birthday,
)
from pos_app.domain.money import MAX_AMOUNT_FEN, parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.domain.points import lot_expiry
from pos_app.domain.typed_numbers import parse_whole_number
from pos_app.services.audit import record, record_refusal
from pos_app.services.auth import Actor, authorize
from pos_app.services.chain_head import write_head
from pos_app.services.context import StoreContext
from pos_app.services.integrity_alarm import read_alarm, refuse_if_broken
from pos_app.services.store_secret import key_path, missing_key_error
from pos_app.services.use_case import UseCase, use_case

Progress = Callable[[int, int], None]

CHUNK_ROWS = 50_000  # rows (members) per transaction
MAX_REPORTED_ERRORS = 10_000  # errors kept in the report; all are counted
MAX_POINTS = 1_000_000_000
SQL_IN_CHUNK = 900  # SQLite's limit on bound parameters is 999 on old builds
IMPORT_CACHE_KIB = 256 * 1024  # page cache while a chunk is written (SQLite's default: 2 MiB)

COLUMNS = (
    "mobile",
    "name",
    "card_no",
    "media",
    "birthday",
    "gender",
    "principal",
    "bonus",
    "points",
)
REQUIRED = ("mobile", "name", "card_no")
ALIASES = {
    "手机号": "mobile",
    "手机": "mobile",
    "姓名": "name",
    "卡号": "card_no",
    "介质": "media",
    "卡类型": "media",
    "生日": "birthday",
    "性别": "gender",
    "本金": "principal",
    "余额": "principal",
    "赠送金": "bonus",
    "积分": "points",
}
GENDER_WORDS = {
    "male": "male",
    "m": "male",
    "男": "male",
    "female": "female",
    "f": "female",
    "女": "female",
    "other": "other",
    "其他": "other",
}
MEDIA = {m.value for m in CardMedia}

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CARD = re.compile(r"[0-9A-Z]{4,32}")
_AMOUNT = re.compile(r"([0-9]{1,8})(?:\.([0-9]{1,2}))?")  # below MAX_AMOUNT_FEN

SOURCE = "member_import"


@dataclass(frozen=True)
class RowError:
    """One problem in the file: its row (header = row 1), the column, the reason."""

    row: int
    column: str
    reason: str
    reason_zh: str
    value: str = ""

    def message(self, lang: str = "zh") -> str:
        if lang.startswith("en"):
            return f"row {self.row}, {self.column}: {self.reason}"
        return f"第 {self.row} 行，{self.column}：{self.reason_zh}"


@dataclass
class ImportResult:
    """What an import did. `imported` is 0 when the file was refused for its errors."""

    rows: int = 0  # data rows in the file
    valid_rows: int = 0
    imported: int = 0  # members (each with one card) committed
    skipped: int = 0  # rows not imported because they had errors
    entries: int = 0  # ledger entries written
    chunks: int = 0  # transactions committed
    opening_principal_fen: int = 0
    opening_bonus_fen: int = 0
    opening_points: int = 0
    first_member_no: str | None = None
    last_member_no: str | None = None
    error_count: int = 0  # every error found; `errors` keeps the first MAX_REPORTED_ERRORS
    errors: list[RowError] = field(default_factory=list)
    stopped_at_row: int | None = None  # set when a chunk met a conflict and the import stopped
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


# A validated row: (row number, mobile, name, card_no, media, birthday, gender, principal fen,
# bonus fen, points). Plain tuples: a million of them are made, and only this module reads them.
_Row = tuple[int, str, str, str, str, "str | None", "str | None", int, int, int]


class _Rejected(Exception):
    """A chunk met rows that became duplicates after validation (all-or-nothing mode)."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


def import_members(
    ctx: StoreContext,
    actor: Actor,
    path: Path | str,
    progress: Progress | None = None,
    only_valid: bool = False,
    *,
    dry_run: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Validate the whole file, then import it (or only its valid rows) in chunks.

    `progress(done, total)` is called with 0 once validation is done and after every
    committed chunk. `dry_run` validates and reports without writing anything.
    """
    started = time.perf_counter()
    path = Path(path)
    _check_permission(ctx, actor, path.name)
    result = ImportResult(dry_run=dry_run)
    rows = _read_and_validate(ctx, path, result)
    result.valid_rows = len(rows)
    result.skipped = result.rows - len(rows)
    if dry_run or (result.error_count and not only_valid) or not rows:
        if result.error_count and not only_valid:
            result.skipped = result.rows
        result.seconds = time.perf_counter() - started
        return result
    _Writer(ctx, actor, path.name, result, only_valid, progress, chunk_rows).run(rows)
    result.seconds = time.perf_counter() - started
    return result


def _check_permission(ctx: StoreContext, actor: Actor, target: str) -> None:
    """Refuse early (and audit it) rather than after validating a million rows."""
    try:
        with read_session(ctx.engine) as s:
            authorize(s, actor, Permission.MEMBER_IMPORT)
    except PermissionDenied as exc:
        record_refusal(ctx, actor.operator_id, Permission.MEMBER_IMPORT.value, target, exc.en)
        raise


# -- reading and validating --------------------------------------------------------------


def _err(
    row: int, column: str, exc_or_en: DomainError | str, zh: str = "", value: str = ""
) -> RowError:
    if isinstance(exc_or_en, DomainError):
        return RowError(row, column, exc_or_en.en, exc_or_en.zh, value)
    return RowError(row, column, exc_or_en, zh or exc_or_en, value)


def _header(raw: list[str], result: ImportResult) -> list[str] | None:
    names: list[str] = []
    for text in raw:
        key = text.strip()
        name = ALIASES.get(key, key.lower())
        if not name:  # an unnamed column (a trailing comma from a spreadsheet): ignored
            names.append(name)
            continue
        if name not in COLUMNS:
            result.add_error(_err(1, key, f"unknown column {key!r}", f"未知的列：{key}", key))
        elif name in names:
            result.add_error(_err(1, key, f"column {name} given twice", f"列重复：{key}", key))
        names.append(name)
    for name in REQUIRED:
        if name not in names:
            result.add_error(_err(1, name, "missing column", f"缺少必填列：{name}"))
    return None if result.error_count else names


def _read_and_validate(ctx: StoreContext, path: Path, result: ImportResult) -> list[_Row]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInput(f"无法打开文件：{path}（{exc}）", f"Cannot open {path}: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            first = next(reader, None)
            if first is None:
                result.add_error(_err(1, "", "the file is empty", "文件是空的"))
                return []
            names = _header(first, result)
            if names is None:
                return []
            rows = _Validator(ctx, names, result).run(reader)
        except UnicodeDecodeError:
            raise InvalidInput(
                "文件不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）",
                "The file is not UTF-8 (save it as “CSV UTF-8” from Excel)",
            ) from None
        except csv.Error as exc:
            raise InvalidInput(
                f"CSV 格式错误（第 {reader.line_num} 行）：{exc}",
                f"Not a valid CSV file (line {reader.line_num}): {exc}",
            ) from None
    result.errors.sort(key=lambda e: e.row)
    return rows


class _Validator:
    """Checks every row. The common case (a clean row) takes a fast path; anything unusual
    goes through `_slow_row`, which uses the domain's own checks and names every problem."""

    def __init__(self, ctx: StoreContext, names: list[str], result: ImportResult) -> None:
        self.ctx = ctx
        self.result = result
        self.width = len(names)
        self.index = {name: i for i, name in enumerate(names)}
        self.today = ctx.business_day()
        self.mobiles: dict[str, int] = {}
        self.cards: dict[str, int] = {}
        self.birthdays: dict[str, str] = {}  # text -> checked ISO date

    def run(self, reader: Iterable[list[str]]) -> list[_Row]:
        ix, width = self.index, self.width
        i_mobile, i_name, i_card = ix["mobile"], ix["name"], ix["card_no"]
        i_media, i_birthday, i_gender = ix.get("media"), ix.get("birthday"), ix.get("gender")
        i_principal, i_bonus, i_points = ix.get("principal"), ix.get("bonus"), ix.get("points")
        mobile_ok, card_ok, amount_ok = _MOBILE.fullmatch, _CARD.fullmatch, _AMOUNT.fullmatch
        control_in = has_control_chars
        mobiles, cards, birthdays = self.mobiles, self.cards, self.birthdays
        media_ok, genders = MEDIA, GENDER_WORDS
        out: list[_Row] = []
        count = 0
        for n, raw in enumerate(reader, start=2):
            if len(raw) != width:
                if not raw or (len(raw) == 1 and not raw[0].strip()):
                    continue  # a blank line is not a row
                count += 1
                self.result.add_error(
                    _err(
                        n,
                        "",
                        f"{len(raw)} fields where the header has {width}",
                        f"本行有 {len(raw)} 列，表头有 {width} 列",
                    )
                )
                continue
            count += 1
            # The fast path: every check passes as written, or we take the slow path.
            mobile, name, card_no = raw[i_mobile], raw[i_name].strip(), raw[i_card]
            if (
                not mobile_ok(mobile)
                or mobile in mobiles
                or not name
                or len(name) > 40
                or control_in(name)
                or not card_ok(card_no)
                or card_no in cards
            ):
                row = self._slow_row(n, raw)
                if row is not None:
                    out.append(row)
                continue
            media = raw[i_media] if i_media is not None else ""
            if media and media not in media_ok:
                row = self._slow_row(n, raw)
                if row is not None:
                    out.append(row)
                continue
            birthday = gender = None
            fast = True
            if i_birthday is not None and raw[i_birthday]:
                birthday = birthdays.get(raw[i_birthday])
                fast = birthday is not None
            if fast and i_gender is not None and raw[i_gender]:
                gender = genders.get(raw[i_gender])
                fast = gender is not None
            principal = bonus = points = 0
            if fast and i_principal is not None and raw[i_principal]:
                m = amount_ok(raw[i_principal])
                if m:
                    principal = int(m[1]) * 100 + int((m[2] or "").ljust(2, "0"))
                fast = m is not None
            if fast and i_bonus is not None and raw[i_bonus]:
                m = amount_ok(raw[i_bonus])
                if m:
                    bonus = int(m[1]) * 100 + int((m[2] or "").ljust(2, "0"))
                fast = m is not None
            if fast and i_points is not None and raw[i_points]:
                text = raw[i_points]
                fast = text.isdigit() and text.isascii() and len(text) <= 9
                if fast:
                    points = int(text)
            if not fast or principal + bonus > MAX_AMOUNT_FEN:
                row = self._slow_row(n, raw)
                if row is not None:
                    out.append(row)
                continue
            mobiles[mobile] = n
            cards[card_no] = n
            out.append(
                (
                    n,
                    mobile,
                    name,
                    card_no,
                    media or "ic",
                    birthday,
                    gender,
                    principal,
                    bonus,
                    points,
                )
            )
        self.result.rows = count
        bad = self._check_database(out)
        return [r for r in out if r[0] not in bad] if bad else out

    def _slow_row(self, n: int, raw: list[str]) -> _Row | None:
        """Validate one row field by field, reporting every problem with its column."""
        ix = self.index
        errors = 0
        add = self.result.add_error

        text = raw[ix["mobile"]].strip()
        mobile = text
        try:
            mobile = normalize_mobile(text)
        except InvalidInput as exc:
            add(_err(n, "mobile", exc, value=text))
            errors += 1
        else:
            first = self.mobiles.setdefault(mobile, n)
            if first != n:
                add(
                    _err(
                        n,
                        "mobile",
                        f"{mask_mobile(mobile)} is also on row {first}",
                        f"手机号 {mask_mobile(mobile)} 与第 {first} 行重复",
                        text,
                    )
                )
                errors += 1

        name = raw[ix["name"]]
        try:
            name = check_name(name)
        except InvalidInput as exc:
            add(_err(n, "name", exc, value=name))
            errors += 1

        text = raw[ix["card_no"]].strip()
        card_no = ""
        try:
            card_no = check_card_no(text)
        except InvalidInput as exc:
            add(_err(n, "card_no", exc, value=text))
            errors += 1
        else:
            first = self.cards.setdefault(card_no, n)
            if first != n:
                add(
                    _err(
                        n,
                        "card_no",
                        f"card {mask_card_no(card_no)} is also on row {first}",
                        f"卡号 {mask_card_no(card_no)} 与第 {first} 行重复",
                        text,
                    )
                )
                errors += 1

        media = "ic"
        if "media" in ix:
            text = raw[ix["media"]].strip().lower()
            if text in MEDIA:
                media = text
            elif text:
                add(
                    _err(
                        n,
                        "media",
                        f"not a card medium: {text} (ic / magstripe / barcode / virtual)",
                        f"卡介质不正确：{text}（ic / magstripe / barcode / virtual）",
                        text,
                    )
                )
                errors += 1

        birthday = None
        if "birthday" in ix:
            raw_text = raw[ix["birthday"]]
            text = raw_text.strip()
            if text:
                try:
                    birthday = parse_birthday(text.replace("/", "-"), self.today).isoformat()
                    self.birthdays[raw_text] = birthday
                except InvalidInput as exc:
                    add(_err(n, "birthday", exc, value=text))
                    errors += 1

        gender = None
        if "gender" in ix:
            text = raw[ix["gender"]].strip()
            if text:
                gender = GENDER_WORDS.get(text.lower())
                if gender is None:
                    add(
                        _err(
                            n,
                            "gender",
                            f"not a gender: {text} (male / female / other)",
                            f"性别不正确：{text}（男 / 女 / 其他）",
                            text,
                        )
                    )
                    errors += 1

        amounts = [0, 0]
        for i, column in enumerate(("principal", "bonus")):
            if column not in ix:
                continue
            text = raw[ix[column]].strip()
            if text:
                try:
                    amounts[i] = parse_yuan(text, allow_zero=True)
                except InvalidInput as exc:
                    add(_err(n, column, exc, value=text))
                    errors += 1
        if amounts[0] + amounts[1] > MAX_AMOUNT_FEN:
            add(_err(n, "principal", "the balance is too large", "余额过大"))
            errors += 1

        points = 0
        if "points" in ix:
            text = raw[ix["points"]].strip()
            if text:
                try:
                    points = parse_whole_number(
                        text, minimum=0, maximum=MAX_POINTS, what_zh="积分", what_en="points"
                    )
                except InvalidInput as exc:
                    add(_err(n, "points", exc, value=text))
                    errors += 1
        if errors:
            return None
        return (n, mobile, name, card_no, media, birthday, gender, amounts[0], amounts[1], points)

    def _check_database(self, rows: list[_Row]) -> set[int]:
        """Rows whose mobile or card number is already in the database."""
        with read_session(self.ctx.engine) as s:
            conflicts = _already_present(s, rows)
        for _, error in conflicts:
            self.result.add_error(error)
        return {row[0] for row, _ in conflicts}


def _already_present(s: Session, rows: list[_Row]) -> list[tuple[_Row, RowError]]:
    """(row, error) for every row whose mobile is a member or whose card exists already."""
    out: list[tuple[_Row, RowError]] = []
    if not rows:
        return out
    members = s.scalar(select(func.count()).select_from(Member)) or 0
    cards = s.scalar(select(func.count()).select_from(Card)) or 0
    if members:
        taken = _taken(s, Member.mobile, [r[1] for r in rows], members)
        out.extend(
            (
                r,
                _err(
                    r[0],
                    "mobile",
                    f"{mask_mobile(r[1])} is already a member",
                    f"手机号 {mask_mobile(r[1])} 已是会员",
                    r[1],
                ),
            )
            for r in rows
            if r[1] in taken
        )
    if cards:
        taken = _taken(s, Card.card_no, [r[3] for r in rows], cards)
        out.extend(
            (
                r,
                _err(
                    r[0],
                    "card_no",
                    f"card {mask_card_no(r[3])} already exists",
                    f"卡号 {mask_card_no(r[3])} 已存在",
                    r[3],
                ),
            )
            for r in rows
            if r[3] in taken
        )
    out.sort(key=lambda pair: pair[0][0])
    return out


def _taken(s: Session, column: Any, values: list[str], table_rows: int) -> set[str]:
    """Which values are in the column: by IN lists for a few, by one scan for many."""
    if len(values) * 4 > table_rows:
        return set(s.scalars(select(column))) & set(values)
    found: set[str] = set()
    for i in range(0, len(values), SQL_IN_CHUNK):
        found.update(s.scalars(select(column).where(column.in_(values[i : i + SQL_IN_CHUNK]))))
    return found


# -- writing -----------------------------------------------------------------------------


class _Ids:
    """UUIDv7 strings in bulk: one `uuid7()` per batch, then its random tail counted up.

    The ids are valid, time-ordered UUIDv7s (RFC 9562 allows a counter in the random bits),
    they sort after every id made before them by `db.ledger.new_id`, and `new_id` keeps
    making later-sorting ids afterwards (it never reuses a millisecond it has handed out).
    """

    def take(self, n: int) -> list[str]:
        value = uuid7().int
        head, tail = value >> 64, value & ((1 << 64) - 1)
        tail &= ~(3 << 60)  # clear the top two random bits: room for 2**60 increments
        h = f"{head:016x}"
        prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-"
        return [f"{prefix}{t >> 48:04x}-{t & 0xFFFFFFFFFFFF:012x}" for t in range(tail, tail + n)]


_SENTINEL = "§§{}§§"


class _Template:
    """The canonical bytes of one kind of entry with a few variable fields, as a %-format.

    Built from `canonical_bytes` itself with marker values in the variable fields, so it
    follows whatever field set and order the chain uses. Variable values are passed as
    JSON fragments (already quoted, or numbers).
    """

    def __init__(self, constants: dict[str, Any], variables: tuple[str, ...]) -> None:
        fields = dict(constants)
        for name in variables:
            fields[name] = _SENTINEL.format(name)
        text = canonical_bytes(fields).decode().replace("%", "%%")
        for name in variables:
            marker = json.dumps(_SENTINEL.format(name), ensure_ascii=False)
            if text.count(marker) != 1:
                raise RuntimeError(f"cannot template the canonical bytes for {name}")
            text = text.replace(marker, f"%({name})s")
        self.format = text


@dataclass(frozen=True)
class _Plan:
    """What a chunk's entries depend on besides its rows: the chain head, the member number
    counter, and the rules and approver in force. A chunk built ahead for one plan is used
    only if its transaction finds exactly that plan."""

    seq: int
    prev_hash: str
    counter: int
    rules_version: int
    approved_by_id: str | None
    tier: str
    expires_on: str | None


@dataclass
class _Built:
    rows: list[_Row]
    plan: _Plan
    end: _Plan
    members: list[tuple[Any, ...]]
    cards: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    lots: list[tuple[Any, ...]]


# The hashed fields, the chain links, then the till: the column order of the entry rows
# built below.
_ENTRY_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash", "mac", "till_id")
_MEMBER_COLUMNS = (
    "id",
    "member_no",
    "mobile",
    "mobile_last4",
    "name",
    "gender",
    "birthday",
    "referrer_id",
    "store_id",
    "registered_by_id",
    "created_at",
    "tier_code",
    "tier_since",
    "points_balance",
    "points_debt",
)
_CARD_COLUMNS = (
    "id",
    "card_no",
    "media",
    "member_id",
    "created_at",
    "state",
    "principal_fen",
    "bonus_fen",
    "pin_failures",
)
_LOT_COLUMNS = ("id", "member_id", "seq", "earned_at", "expires_on", "points", "remaining")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_SQL_MEMBER = _insert_sql("member", _MEMBER_COLUMNS)
_SQL_CARD = _insert_sql("card", _CARD_COLUMNS)
_SQL_ENTRY = _insert_sql("ledger_entry", _ENTRY_COLUMNS)
_SQL_LOT = _insert_sql("point_lot", _LOT_COLUMNS)


class _Builder:
    """Turns rows into the member, card, ledger entry and points lot rows to insert. Pure
    Python, no database: it can run on a thread while the previous chunk commits."""

    def __init__(
        self, store_id: str, store_code: str, till_id: str, operator_id: str, mac_key: bytes
    ) -> None:
        self.store_id, self.store_code, self.operator_id = store_id, store_code, operator_id
        self.till_id = till_id
        self.ids = _Ids()
        self.macs = MacChecker(mac_key)

    def build(self, rows: list[_Row], plan: _Plan, now: str) -> _Built:
        store_id, store_code, operator_id = self.store_id, self.store_code, self.operator_id
        till_id = self.till_id
        tier, expires_on = plan.tier, plan.expires_on
        approved, version = plan.approved_by_id, plan.rules_version
        constants = {
            "store_id": store_id,
            "operator_id": operator_id,
            "approved_by_id": approved,
            "business_time": now,
            "wall_time": now,
            "rules_version": version,
            "amount_fen": 0,
            "tender": None,
            "related_entry_id": None,
            "principal_delta": 0,
            "bonus_delta": 0,
            "points_delta": 0,
            "till_id": till_id,
        }
        kind_registered = EntryKind.MEMBER_REGISTERED.value
        kind_issued = EntryKind.CARD_ISSUED.value
        kind_opening = EntryKind.OPENING_BALANCE.value
        registered = _Template(
            {**constants, "kind": kind_registered, "card_id": None},
            ("entry_id", "member_id", "store_seq", "payload"),
        ).format
        issued = _Template(
            {**constants, "kind": kind_issued},
            ("entry_id", "member_id", "card_id", "store_seq", "payload"),
        ).format
        opening = _Template(
            {**constants, "kind": kind_opening},
            ("entry_id", "member_id", "card_id", "store_seq", "payload")
            + ("principal_delta", "bonus_delta", "points_delta"),
        ).format
        encode = json.encoder.encode_basestring  # the JSON string encoder json.dumps uses
        media_payloads = {m: _payload({"media": m}) for m in MEDIA}
        media_json = {m: encode(p) for m, p in media_payloads.items()}
        money_payload = _payload({"source": SOURCE})
        points_payload = _payload({"debt_paid": 0, "expires_on": expires_on, "source": SOURCE})
        money_json, points_json = encode(money_payload), encode(points_payload)
        # register_member's payload, with a marker where the member number goes.
        reg_payload = _payload({"member_no": "§", "referrer_id": None, "tier": tier})
        reg_before, reg_after = reg_payload.split("§")
        active = CardState.ACTIVE.value
        sha256 = hashlib.sha256
        mac = self.macs.mac

        n = len(rows)
        n_opening = sum(1 for r in rows if r[7] or r[8] or r[9])
        ids = self.ids.take(4 * n + n_opening)
        member_ids, card_ids = ids[:n], ids[n : 2 * n]
        entry_ids = iter(ids[2 * n :])
        seq, prev, counter = plan.seq, plan.prev_hash, plan.counter
        members: list[tuple[Any, ...]] = []
        cards: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        lots: list[tuple[Any, ...]] = []
        for i, (
            _,
            mobile,
            name,
            card_no,
            media,
            birthday,
            gender,
            principal,
            bonus,
            points,
        ) in enumerate(rows):
            counter += 1
            member_no = f"{store_code}{counter:07d}"
            member_id, card_id = member_ids[i], card_ids[i]
            q_member, q_card = f'"{member_id}"', f'"{card_id}"'
            members.append(
                (
                    member_id, member_no, mobile, mobile[-4:], name, gender, birthday, None,
                    store_id, operator_id, now, tier, now, points, 0,
                )
            )  # fmt: skip
            cards.append((card_id, card_no, media, member_id, now, active, principal, bonus, 0))

            seq += 1  # member_registered, as register_member writes it
            eid = next(entry_ids)
            payload = f"{reg_before}{member_no}{reg_after}"
            canonical = registered % {
                "entry_id": f'"{eid}"',
                "member_id": q_member,
                "store_seq": seq,
                "payload": encode(payload),
            }
            digest = sha256((prev + canonical).encode()).hexdigest()
            entries.append(
                (
                    eid, store_id, seq, kind_registered, member_id, None, operator_id, approved,
                    now, now, 0, 0, 0, 0, None, None, version, payload, prev, digest,
                    mac(digest), till_id,
                )
            )  # fmt: skip
            prev = digest

            seq += 1  # card_issued, as issue_card writes it
            eid = next(entry_ids)
            canonical = issued % {
                "entry_id": f'"{eid}"',
                "member_id": q_member,
                "card_id": q_card,
                "store_seq": seq,
                "payload": media_json[media],
            }
            digest = sha256((prev + canonical).encode()).hexdigest()
            entries.append(
                (
                    eid, store_id, seq, kind_issued, member_id, card_id, operator_id, approved,
                    now, now, 0, 0, 0, 0, None, None, version, media_payloads[media], prev,
                    digest, mac(digest), till_id,
                )
            )  # fmt: skip
            prev = digest

            if principal or bonus or points:
                seq += 1  # opening_balance: stored value onto the card, points as a lot
                eid = next(entry_ids)
                canonical = opening % {
                    "entry_id": f'"{eid}"',
                    "member_id": q_member,
                    "card_id": q_card,
                    "store_seq": seq,
                    "payload": points_json if points else money_json,
                    "principal_delta": principal,
                    "bonus_delta": bonus,
                    "points_delta": points,
                }
                digest = sha256((prev + canonical).encode()).hexdigest()
                entries.append(
                    (
                        eid, store_id, seq, kind_opening, member_id, card_id, operator_id,
                        approved, now, now, principal, bonus, points, 0, None, None, version,
                        points_payload if points else money_payload, prev, digest, mac(digest),
                        till_id,
                    )
                )  # fmt: skip
                prev = digest
                if points:
                    lots.append((eid, member_id, seq, now, expires_on, points, points))
        _check_sample(entries)
        end = _Plan(seq, prev, counter, version, approved, tier, expires_on)
        return _Built(rows, plan, end, members, cards, entries, lots)


def _payload(payload: dict[str, Any]) -> str:
    text = canonical_payload(payload)
    assert text is not None
    return text


def _check_sample(entries: list[tuple[Any, ...]]) -> None:
    """Re-hash the first entry of each kind the ordinary way (`chain_hash`); refuse to go on
    if the template ever disagrees with it."""
    seen: set[str] = set()
    for row in entries:
        kind = row[3]
        if kind in seen:
            continue
        seen.add(kind)
        fields = dict(zip(_ENTRY_COLUMNS, row, strict=True))
        if chain_hash(fields["prev_hash"], fields) != fields["hash"]:
            raise RuntimeError(f"bulk hashing disagrees with chain_hash for {kind}")
        if len(seen) == 3:
            break


class _Writer:
    def __init__(
        self,
        ctx: StoreContext,
        actor: Actor,
        source: str,
        result: ImportResult,
        only_valid: bool,
        progress: Progress | None,
        chunk_rows: int,
    ) -> None:
        self.ctx, self.actor, self.source, self.result = ctx, actor, source, result
        self.only_valid, self.progress, self.chunk_rows = only_valid, progress, max(1, chunk_rows)
        store = ctx.store
        keys = ctx.keys
        if keys is None:
            raise missing_key_error(key_path(ctx.key_dir, store.id))
        self.keys = keys
        self.builder = _Builder(
            store.id, store.code, ctx.till_id, actor.operator_id, keys.ledger_mac
        )
        self.expected_head: tuple[int, str] = (0, GENESIS_HASH)

    def run(self, rows: list[_Row]) -> None:
        # Opening balances move value: not into a store under an integrity alarm.
        refuse_if_broken(read_alarm(self.ctx.data_dir), EntryKind.OPENING_BALANCE)
        total = len(rows)
        chunks = [rows[i : i + self.chunk_rows] for i in range(0, total, self.chunk_rows)]
        with read_session(self.ctx.engine) as s:
            self.expected_head = _head(s, self.ctx.store.id)
        if self.progress:
            self.progress(0, total)
        done = 0
        ahead: _Ahead | None = None
        self.ictx = _import_context(self.ctx)
        try:
            for k, chunk in enumerate(chunks):
                built = ahead.result() if ahead else None
                ahead = None
                following = chunks[k + 1] if k + 1 < len(chunks) else None
                try:
                    ahead = self._chunk(chunk, built, following, recheck=False)
                except IntegrityError:
                    # A mobile or card number appeared without a ledger entry in between (an
                    # edited profile): the chunk rolled back whole; do it again, checking.
                    ahead = self._chunk(chunk, None, following, recheck=True)
                done += len(chunk)
                if self.progress:
                    self.progress(done, total)
        except _Rejected as stop:
            self.result.stopped_at_row = stop.row
        finally:
            if ahead is not None:
                ahead.join()
            self.ictx.engine.dispose()

    def _plan(self, uc: UseCase) -> _Plan:
        conn = uc.session.connection()
        counter = conn.execute(
            select(Counter.value).where(Counter.name == "member_no")
        ).scalar_one_or_none()
        if counter is None:
            conn.exec_driver_sql("INSERT INTO counter (name, value) VALUES ('member_no', 0)")
            counter = 0
        seq, prev = uc.ledger.head()
        expiry = lot_expiry(uc.rules.points, self.ctx.business_day())
        return _Plan(
            seq,
            prev,
            counter,
            uc.ledger.rules_version,
            uc.ledger.approved_by_id,
            uc.rules.tiers.base.code,
            expiry.isoformat() if expiry else None,
        )

    def _chunk(
        self,
        chunk: list[_Row],
        built: _Built | None,
        following: list[_Row] | None,
        recheck: bool,
    ) -> _Ahead | None:
        """One transaction: the chunk's rows, whole. Returns the next chunk being built."""
        ahead = None
        with use_case(self.ictx, self.actor, Permission.MEMBER_IMPORT, target=self.source) as uc:
            conn = uc.session.connection()
            plan = self._plan(uc)
            if recheck or (plan.seq, plan.prev_hash) != self.expected_head:
                # Someone else wrote since we last looked: check this chunk's rows again,
                # inside this transaction (which holds the write lock).
                conflicts = _already_present(uc.session, chunk)
                if conflicts:
                    for _, error in conflicts:
                        self.result.add_error(error)
                    if not self.only_valid:
                        raise _Rejected(chunk[0][0])
                    bad = {row[0] for row, _ in conflicts}
                    self.result.skipped += len(bad)
                    self.result.valid_rows -= len(bad)
                    chunk = [r for r in chunk if r[0] not in bad]
                    if not chunk:
                        return None
            if built is None or built.plan != plan or built.rows is not chunk:
                built = self.builder.build(chunk, plan, uc.now_iso)
            conn.exec_driver_sql(_SQL_MEMBER, built.members)
            conn.exec_driver_sql(_SQL_CARD, built.cards)
            conn.exec_driver_sql(_SQL_ENTRY, built.entries)
            if built.lots:
                conn.exec_driver_sql(_SQL_LOT, built.lots)
            conn.exec_driver_sql(
                "UPDATE counter SET value = ? WHERE name = 'member_no'", (built.end.counter,)
            )
            first_no, last_no = built.members[0][1], built.members[-1][1]
            record(
                uc.session,
                uc.now_iso,
                self.actor.operator_id,
                "member.import",
                target=self.source[:80],
                detail={
                    "rows": [chunk[0][0], chunk[-1][0]],
                    "members": len(chunk),
                    "entries": len(built.entries),
                    "member_nos": [first_no, last_no],
                },
            )
            uc.session.flush()
            if following:
                # Build the next chunk while this one commits (the commit waits on the disk
                # with the GIL released). It is used only if the next transaction finds the
                # chain, counter and rules exactly where this one leaves them.
                ahead = _Ahead(self.builder, following, built.end, self.ctx.now_iso())
        # Committed.
        self.expected_head = (built.end.seq, built.end.prev_hash)
        if self.ctx.data_dir is not None:
            write_head(self.keys, self.ctx.data_dir, *self.expected_head, self.ctx.now_iso())
        r = self.result
        r.imported += len(chunk)
        r.entries += len(built.entries)
        r.chunks += 1
        r.first_member_no = r.first_member_no or first_no
        r.last_member_no = last_no
        r.opening_principal_fen += sum(row[7] for row in chunk)
        r.opening_bonus_fen += sum(row[8] for row in chunk)
        r.opening_points += sum(row[9] for row in chunk)
        return ahead


def _import_context(ctx: StoreContext) -> StoreContext:
    """The store on an engine of its own for the import's chunks: the same pragmas (WAL,
    synchronous=FULL, BEGIN IMMEDIATE) plus a page cache big enough to keep the member
    indexes (mobile, name: random inserts) warm from one chunk to the next. Disposed of at
    the end, so the application's own connections keep their ordinary cache."""
    engine = make_engine(str(ctx.engine.url.database))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")

    return StoreContext(engine=engine, clock=ctx.clock, data_dir=ctx.data_dir, key_dir=ctx.key_dir)


class _Ahead:
    """A chunk being built on a worker thread."""

    def __init__(self, builder: _Builder, rows: list[_Row], plan: _Plan, now: str) -> None:
        self._built: _Built | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(builder, rows, plan, now), name="member-import-build"
        )
        self._thread.start()

    def _run(self, builder: _Builder, rows: list[_Row], plan: _Plan, now: str) -> None:
        try:
            self._built = builder.build(rows, plan, now)
        except BaseException as exc:  # handed to the main thread by result()
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> _Built | None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._built


def _head(s: Session, store_id: str) -> tuple[int, str]:
    row = s.execute(
        select(LedgerEntry.store_seq, LedgerEntry.hash)
        .where(LedgerEntry.store_id == store_id)
        .order_by(LedgerEntry.store_seq.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)
