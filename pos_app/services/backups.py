"""Backups (PRODUCT §13): online copies of the store's database, each verified before it is
kept, and a restore that refuses a copy that does not verify.

A backup is taken with SQLite's online backup API in one step, so it is one consistent
snapshot even while the till keeps selling (in WAL mode a reader never holds up a writer; a
backup made in several steps would start again after every sale). The copy is written under
a temporary name, flushed to disk, then verified — integrity_check, the sealed chain, every
balance — with the store's key; only then is it given its name and a manifest beside it, and
the oldest backups beyond the number to keep are removed. A copy that does not verify is not
kept: a backup is only worth having if it can be restored.

A restore checks the chosen backup the same way (and that it is this store's), checks the
manager's credentials against the backup itself (the live database may be unreadable), moves
the current database aside into a `replaced-…` folder (never deleted), puts the copy in
place, resets the head record to the restored head, lowers the integrity alarm, and records
the restore in the restored ledger, with the head of the database it replaced.

The folder, the interval and the number kept are `[backup]` settings in settings.toml; the
default folder is `backups` in the data folder — a disk of its own is better, and the
settings screen says where they go.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from db.chain_check import connect_read_only
from db.engine import read_session
from db.models import Operator
from pos_app.device_settings import SETTINGS_FILE
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AuthenticationFailed, DomainError, InvalidInput, NotFound
from pos_app.domain.permissions import Permission, Role, check_permission
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.chain_head import forget_head, write_head
from pos_app.services.context import DB_FILENAME, StoreContext, iso, open_store
from pos_app.services.credentials import verify_secret
from pos_app.services.integrity_alarm import clear_alarm
from pos_app.services.operator_records import seal_matches
from pos_app.services.sign_in import sign_in
from pos_app.services.store_secret import StoreKeys, key_path, missing_key_error
from pos_app.services.use_case import use_case
from pos_app.services.verify import verify_file

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".json"
BACKUP_SUFFIX = ".sqlite3"
PARTIAL_PREFIX = ".partial-"
STALE_AFTER = timedelta(days=1)  # the settings screen warns about an older last backup
STALE_PARTIAL_SECONDS = 6 * 3600  # a half-made copy this old belongs to no running backup


class BackupFailed(DomainError):
    code = "backup_failed"


@dataclass(frozen=True)
class BackupSettings:
    """`[backup]` in settings.toml."""

    folder: Path
    every_hours: int = 4  # the till backs up when the last backup is older than this
    keep: int = 14  # how many backups to keep; the oldest beyond are removed


def backup_settings(data_dir: Path) -> BackupSettings:
    """The `[backup]` settings; a missing file or table gives the defaults, a wrong value is
    refused with a clear message (a backup silently going nowhere is worse)."""
    default = BackupSettings(folder=data_dir / "backups")
    path = data_dir / SETTINGS_FILE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("backup", {})
    except FileNotFoundError:
        return default
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"设置文件 {SETTINGS_FILE} 有误：{exc}", f"{SETTINGS_FILE} cannot be read: {exc}"
        ) from None
    if not isinstance(table, dict):
        raise _setting_error("backup", "must be a table")
    folder = table.get("folder")
    every, keep = table.get("every_hours", 4), table.get("keep", 14)
    if folder is not None and (not isinstance(folder, str) or not folder.strip()):
        raise _setting_error("backup.folder", "must be a folder path")
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 168:
        raise _setting_error("backup.every_hours", "must be a whole number from 1 to 168")
    if not isinstance(keep, int) or isinstance(keep, bool) or not 1 <= keep <= 1000:
        raise _setting_error("backup.keep", "must be a whole number from 1 to 1000")
    target = Path(folder).expanduser() if folder else default.folder
    if not target.is_absolute():
        target = data_dir / target
    return BackupSettings(folder=target, every_hours=every, keep=keep)


def _setting_error(key: str, what: str) -> InvalidInput:
    return InvalidInput(f"{SETTINGS_FILE} 的 {key} {what}", f"{SETTINGS_FILE}: {key} {what}")


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: str
    created_at: str  # UTC ISO
    store_id: str
    store_code: str
    head_seq: int
    head_hash: str
    entries: int
    size_bytes: int
    reason: str  # manual, day_close, scheduled, before_restore
    operator: str
    verify_seconds: float

    def age(self, now: datetime) -> timedelta:
        return now - datetime.fromisoformat(self.created_at)


def _keys(ctx: StoreContext) -> StoreKeys:
    keys = ctx.keys
    if keys is None:
        raise missing_key_error(key_path(ctx.key_dir, ctx.store.id))
    return keys


def _data_dir(ctx: StoreContext) -> Path:
    if ctx.data_dir is None:
        raise InvalidInput("这个门店没有数据目录", "This store has no data folder")
    return ctx.data_dir


def back_up(
    ctx: StoreContext,
    actor: Actor,
    reason: str = "manual",
    progress: Callable[[str, int], None] | None = None,
) -> BackupInfo:
    """Make a verified backup now; returns what was kept. `progress(stage, count)` is told
    "copy" once, then "verify" with the entries checked so far."""
    data_dir = _data_dir(ctx)
    settings = backup_settings(data_dir)
    keys = _keys(ctx)
    store = ctx.store
    _authorize(ctx, actor, Permission.BACKUP)
    try:
        settings.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(
            f"无法创建备份文件夹 {settings.folder}：{exc.strerror}",
            f"Cannot create the backup folder {settings.folder}: {exc.strerror}",
        ) from None
    _remove_stale_partials(settings.folder)
    now = ctx.now()
    # Dashes keep every run of digits short: logs mask long ones as if they were card numbers.
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d-%H%M%S-%f")
    partial = settings.folder / f"{PARTIAL_PREFIX}{store.code}-{stamp}{BACKUP_SUFFIX}"
    try:
        if progress:
            progress("copy", 0)
        _copy_database(ctx, partial)
        report = verify_file(partial, keys, (lambda n: progress("verify", n)) if progress else None)
        if not report.ok:
            raise BackupFailed(
                f"备份未通过校验，未保留：{report.first_problem_text()}",
                f"The backup did not verify and was not kept: {report.first_problem_text()}",
            )
        final = settings.folder / f"{store.code}-{stamp}-seq{report.head_seq}{BACKUP_SUFFIX}"
        os.replace(partial, final)
    except OSError as exc:
        raise BackupFailed(
            f"备份失败（{settings.folder}）：{exc.strerror or exc}",
            f"The backup failed ({settings.folder}): {exc.strerror or exc}",
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    info = BackupInfo(
        name=final.name,
        path=str(final),
        created_at=iso(now),
        store_id=store.id,
        store_code=store.code,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        entries=report.entries,
        size_bytes=final.stat().st_size,
        reason=reason,
        operator=actor.login,
        verify_seconds=round(report.seconds, 3),
    )
    _write_manifest(final, info)
    removed = _prune(settings, store.id)
    with use_case(ctx, actor, Permission.BACKUP, target=final.name) as uc:
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "backup.made",
            target=final.name,
            detail={"reason": reason, "head_seq": info.head_seq, "removed": removed},
        )
    log.info("backup %s made (%s), %d old ones removed", final.name, reason, len(removed))
    return info


def _authorize(ctx: StoreContext, actor: Actor, permission: Permission) -> None:
    with read_session(ctx.engine) as session:
        authorize(session, actor, permission)


def _remove_stale_partials(folder: Path) -> None:
    """Copies left half-made by a backup that was killed (power cut, kill -9). Only old ones:
    a backup running at this moment in another process has a young one."""
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in folder.glob(f"{PARTIAL_PREFIX}*"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


def _copy_database(ctx: StoreContext, target: Path) -> None:
    """One consistent snapshot through the online backup API, flushed to disk."""
    source = connect_read_only(Path(str(ctx.engine.url.database)))
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)  # pages=-1: one step, one snapshot (see the module doc)
            dest.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            dest.close()
    finally:
        source.close()
    with target.open("rb+") as f:
        os.fsync(f.fileno())


def _write_manifest(backup: Path, info: BackupInfo) -> None:
    manifest = backup.with_suffix(MANIFEST_SUFFIX)
    tmp = manifest.with_name(PARTIAL_PREFIX + manifest.name)
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(asdict(info), out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, manifest)


def _read_manifests(folder: Path, store_id: str) -> list[BackupInfo]:
    found = []
    try:
        paths = list(folder.glob(f"*{MANIFEST_SUFFIX}"))
    except OSError:
        return []
    for manifest in paths:
        if manifest.name.startswith(PARTIAL_PREFIX):
            continue
        try:
            info = BackupInfo(**json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue  # not one of ours, or damaged: listed by nobody, deleted by nobody
        backup = manifest.with_suffix(BACKUP_SUFFIX)
        if info.store_id == store_id and backup.exists():
            found.append(_replace_path(info, backup))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def _replace_path(info: BackupInfo, backup: Path) -> BackupInfo:
    data = asdict(info)
    data["path"] = str(backup)  # the folder may have been moved since
    return BackupInfo(**data)


def _prune(settings: BackupSettings, store_id: str) -> list[str]:
    removed = []
    for old in _read_manifests(settings.folder, store_id)[settings.keep :]:
        backup = Path(old.path)
        backup.unlink(missing_ok=True)
        backup.with_suffix(MANIFEST_SUFFIX).unlink(missing_ok=True)
        removed.append(old.name)
    return removed


def list_backups(ctx: StoreContext) -> list[BackupInfo]:
    """This store's kept backups, newest first."""
    data_dir = _data_dir(ctx)
    return _read_manifests(backup_settings(data_dir).folder, ctx.store.id)


def last_backup(ctx: StoreContext) -> BackupInfo | None:
    backups = list_backups(ctx)
    return backups[0] if backups else None


def backup_due(ctx: StoreContext) -> bool:
    """Whether the scheduled backup is due: none yet, or the last older than every_hours."""
    data_dir = _data_dir(ctx)
    settings = backup_settings(data_dir)
    last = last_backup(ctx)
    return last is None or last.age(ctx.now()) >= timedelta(hours=settings.every_hours)


@dataclass(frozen=True)
class RestoreResult:
    backup: BackupInfo
    replaced_folder: str  # where the database that was replaced now is
    replaced_head_seq: int | None  # its last entry, if it could be read
    lost_entries: int | None  # entries after the backup that the restore left behind


def find_backup(ctx: StoreContext, name: str) -> BackupInfo:
    """A kept backup by its name (or a path to one made elsewhere, with its manifest)."""
    wanted = name.strip()
    for info in list_backups(ctx):
        if wanted in (info.name, info.path):
            return info
    path = Path(wanted).expanduser()
    if path.is_file() and path.with_suffix(MANIFEST_SUFFIX).is_file():
        for info in _read_manifests(path.parent, ctx.store.id):
            if Path(info.path).resolve() == path.resolve():
                return info
    raise NotFound(f"找不到这个备份：{name}", f"No such backup of this store: {name}")


def restore(
    ctx: StoreContext,
    login: str,
    password: str,
    name: str,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[RestoreResult, StoreContext]:
    """Put a verified backup in place of the store's database (a manager, signing in against
    the backup). Returns the result and a new context on the restored store; `ctx` is closed.
    The till app must not be running on the store meanwhile."""
    data_dir = _data_dir(ctx)
    keys = _keys(ctx)
    info = find_backup(ctx, name)
    backup = Path(info.path)
    report = verify_file(backup, keys, (lambda n: progress("verify", n)) if progress else None)
    if not report.ok:
        raise BackupFailed(
            f"这个备份未通过校验，不能恢复：{report.first_problem_text()}",
            f"This backup does not verify, so it is not restored: {report.first_problem_text()}",
        )
    approver = _check_manager_in(backup, keys, login, password)
    replaced_head = _head_of(Path(str(ctx.engine.url.database)))
    if progress:
        progress("copy", 0)
    # The copy is made beside the database first, so that a failure to copy (a full disk)
    # leaves the store as it was; only then is the current database moved aside.
    staged = data_dir / (PARTIAL_PREFIX + DB_FILENAME)
    try:
        _copy_file(backup, staged)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise BackupFailed(
            f"无法复制备份：{exc.strerror or exc}", f"Cannot copy the backup: {exc.strerror or exc}"
        ) from None
    ctx.engine.dispose()
    stamp = ctx.now().astimezone(UTC).strftime("%Y-%m-%d-%H%M%S")
    aside = data_dir / f"replaced-{stamp}"
    aside.mkdir(exist_ok=False)
    for suffix in ("", "-wal", "-shm"):
        current = data_dir / (DB_FILENAME + suffix)
        if current.exists():
            os.replace(current, aside / current.name)
    os.replace(staged, data_dir / DB_FILENAME)
    restored = open_store(data_dir, clock=ctx.clock, key_dir=ctx.key_dir)
    clear_alarm(data_dir)
    # The record of the replaced ledger's head goes: the restored ledger is meant to be short.
    forget_head(keys, data_dir)
    write_head(keys, data_dir, report.head_seq, report.head_hash, restored.now_iso())
    actor = sign_in(restored, login, password)
    lost = None if replaced_head is None else max(0, replaced_head - report.head_seq)
    with use_case(restored, actor, Permission.BACKUP_RESTORE, target=info.name) as uc:
        uc.ledger.append(
            EntryKind.STORE_RESTORED,
            payload={
                "backup": info.name,
                "backup_head_seq": report.head_seq,
                "replaced_head_seq": replaced_head,
                "replaced_folder": aside.name,
            },
        )
        record(
            uc.session,
            uc.now_iso,
            approver,
            "backup.restored",
            target=info.name,
            detail={"replaced_folder": aside.name, "lost_entries": lost},
        )
    log.warning("store restored from %s; the replaced database is in %s", info.name, aside)
    return RestoreResult(info, str(aside), replaced_head, lost), restored


def _check_manager_in(backup: Path, keys: StoreKeys, login: str, password: str) -> str:
    """The operator's credentials, role and seal as the backup records them."""
    conn = connect_read_only(backup)
    try:
        row = conn.execute(
            "SELECT id, login, name, role, active, password_hash, employee_card_hash, seal "
            "FROM operator WHERE login = ?",
            (login.strip(),),
        ).fetchone()
    finally:
        conn.close()
    refused = AuthenticationFailed("用户名或密码不正确", "The login or password is not correct")
    if row is None or not row[4] or not verify_secret(password, row[5]):
        raise refused
    op = Operator(
        id=row[0],
        login=row[1],
        name=row[2],
        role=row[3],
        active=bool(row[4]),
        password_hash=row[5],
        employee_card_hash=row[6],
        seal=row[7],
    )
    if not seal_matches(keys, op):
        raise refused
    check_permission(Role(op.role), Permission.BACKUP_RESTORE)
    return op.id


def _head_of(db_path: Path) -> int | None:
    try:
        conn = connect_read_only(db_path)
        try:
            value = conn.execute("SELECT max(store_seq) FROM ledger_entry").fetchone()[0]
        finally:
            conn.close()
        return int(value) if value is not None else 0
    except (sqlite3.Error, DBAPIError, OSError, TypeError, ValueError):
        return None  # the database being replaced may be beyond reading


def _copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb+") as f:
        os.fsync(f.fileno())
