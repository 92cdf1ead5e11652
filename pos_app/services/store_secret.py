"""The store's secret: a key file kept apart from the database, and the keys made from it.

Why: whoever holds the database file can rewrite it. With a secret that is not in that file,
a rewritten history shows, because the app seals what matters with keys made from it:

- every ledger entry carries a MAC of its hash (`ledger_mac`), so re-hashing a rewritten
  chain needs the key as well as the file;
- every operator row carries a seal over its role, state, password and card hashes
  (`operator_seal`), so `UPDATE operator SET role='admin'` is refused at sign-in;
- employee-card numbers are stored as keyed hashes (`employee_card`), so a stolen database
  does not give the short card numbers away by trying them all;
- the head of the chain is recorded beside the key after each write (`head_record`), so
  entries deleted from the end of the ledger are missed.

The file lives in the key folder (`POS_KEY_DIR`, or the user's config folder, e.g.
`~/.config/pos-app/keys` on Linux), never in the data folder, and is readable by its owner
only. It is made once, when the store is set up (or when a store made by an older version is
first opened), and never changes; keep a copy of it somewhere safe, apart from the backups of
the database. `keyed_from_seq` says from which ledger entry on the chain is sealed: entries
written by an older version before the key existed have no MAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from pos_app.domain.errors import DomainError

KEY_DIR_ENV = "POS_KEY_DIR"
KEY_FORMAT = 1
SECRET_BYTES = 32


class StoreKeyError(DomainError):
    """The key file is missing, unreadable or belongs to another store."""

    code = "store_key"


def default_key_dir() -> Path:
    """Where key files live unless POS_KEY_DIR says otherwise: the user's config folder,
    not the data folder, so that copying the data folder does not copy the key."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_config_path("pos-app") / "keys"


def key_path(key_dir: Path, store_id: str) -> Path:
    return key_dir / f"{store_id}.key"


def _derive(secret: bytes, purpose: str) -> bytes:
    # One secret, a key per purpose: a key leaked through one use gives nothing for another.
    return hmac.new(secret, f"pos-app/{purpose}/v1".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class StoreKeys:
    """The keys of one store, made from its secret."""

    store_id: str
    keyed_from_seq: int
    path: Path
    ledger_mac: bytes
    operator_seal: bytes
    employee_card: bytes
    head_record: bytes

    @classmethod
    def from_secret(
        cls, store_id: str, secret: bytes, keyed_from_seq: int, path: Path
    ) -> StoreKeys:
        return cls(
            store_id=store_id,
            keyed_from_seq=keyed_from_seq,
            path=path,
            ledger_mac=_derive(secret, "ledger-mac"),
            operator_seal=_derive(secret, "operator-seal"),
            employee_card=_derive(secret, "employee-card"),
            head_record=_derive(secret, "head-record"),
        )

    def __repr__(self) -> str:  # never show key material in a log or a traceback
        return f"StoreKeys(store_id={self.store_id!r}, path={str(self.path)!r})"


def load_keys(key_dir: Path, store_id: str) -> StoreKeys | None:
    """The store's keys, or None when it has no key file. A file that exists but cannot be
    read, or that names another store, is refused: it is never silently replaced."""
    path = key_path(key_dir, store_id)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable(path, str(exc)) from None
    try:
        data = json.loads(raw)
        secret = base64.b64decode(data["secret"], validate=True)
        keyed_from = int(data["keyed_from_seq"])
        named_store = str(data["store_id"])
    except (ValueError, KeyError, TypeError):
        raise _unreadable(path, "not a pos-app key file") from None
    if named_store != store_id or len(secret) != SECRET_BYTES or keyed_from < 1:
        raise _unreadable(path, "it belongs to another store or is damaged")
    return StoreKeys.from_secret(store_id, secret, keyed_from, path)


def create_keys(key_dir: Path, store_id: str, keyed_from_seq: int, created_at: str) -> StoreKeys:
    """Make the store's secret and write its key file (owner-only, written whole or not at
    all). Refused if the store already has one: a second secret would orphan the first."""
    path = key_path(key_dir, store_id)
    if path.exists():
        raise StoreKeyError(
            f"门店密钥文件已存在：{path}",
            f"The store's key file already exists: {path}",
        )
    secret = secrets.token_bytes(SECRET_BYTES)
    body = {
        "format": KEY_FORMAT,
        "store_id": store_id,
        "keyed_from_seq": keyed_from_seq,
        "created_at": created_at,
        "secret": base64.b64encode(secret).decode("ascii"),
        "note": "pos-app store key: keep a copy apart from the database backups; never share it",
    }
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=key_dir)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        # link, not replace: two processes creating the key at once must not both win.
        os.link(tmp, path)
    except FileExistsError:
        loaded = load_keys(key_dir, store_id)
        assert loaded is not None
        return loaded
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(key_dir)
    return StoreKeys.from_secret(store_id, secret, keyed_from_seq, path)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders; the file itself was fsync'd
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unreadable(path: Path, why: str) -> StoreKeyError:
    return StoreKeyError(
        f"无法读取门店密钥文件 {path}：{why}", f"Cannot read the store's key file {path}: {why}"
    )


def missing_key_error(path: Path) -> StoreKeyError:
    """Refusal for a store whose ledger is sealed but whose key file is gone."""
    return StoreKeyError(
        f"门店密钥文件不见了：{path}。账本已用它加密封存，没有它不能记账也无法校验；"
        "请把保存的密钥文件复制回这个位置（或设置 POS_KEY_DIR 指向它所在的文件夹）",
        f"The store's key file is missing: {path}. The ledger is sealed with it, so nothing "
        "can be recorded or verified without it; copy the saved key file back to that place "
        "(or point POS_KEY_DIR at the folder that holds it)",
    )
