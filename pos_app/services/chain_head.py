"""The head of the ledger recorded outside the database, beside the store's key.

Why: a MAC on every entry stops a rewritten history, not a shortened one: deleting the
newest entries (and adjusting the balances they changed) leaves a chain that is sealed and
consistent, only shorter. So after every write the app records the chain's head — its
sequence number and hash, with a MAC — in a small file in the key folder. `verify` then
finds the ledger must reach that entry, unchanged. HQ's acknowledged head (sync) is the
same idea off the machine.

The file is written after the database commit, never before, and without fsync: after a
power cut it may lag behind the ledger (harmless), but it is never ahead of what was
committed. Two processes writing at once may also leave the older of their two heads: again
only a lag. It is named by the store and by the data folder's path, so that a copy of the
folder (a test, a restored copy opened elsewhere) keeps its own record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pos_app.services.store_secret import StoreKeys


@dataclass(frozen=True)
class HeadRecord:
    seq: int
    hash: str
    at: str
    genuine: bool  # its MAC checks out with the store's key


def head_record_path(keys: StoreKeys, data_dir: Path) -> Path:
    folder = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    return keys.path.with_name(f"{keys.store_id}-{folder}.head")


def _mac(keys: StoreKeys, seq: int, entry_hash: str) -> str:
    message = f"{keys.store_id}:{seq}:{entry_hash}".encode("ascii")
    return hmac.new(keys.head_record, message, hashlib.sha256).hexdigest()


def write_head(keys: StoreKeys, data_dir: Path, seq: int, entry_hash: str, at: str) -> None:
    """Record the head after a committed write. Best effort: a failure to write it (a full
    disk, a read-only key folder) must not turn a committed sale into an error."""
    path = head_record_path(keys, data_dir)
    body = json.dumps(
        {"seq": seq, "hash": entry_hash, "at": at, "mac": _mac(keys, seq, entry_hash)}
    )
    try:
        fd, tmp = tempfile.mkstemp(prefix=".head-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def read_head(keys: StoreKeys, data_dir: Path) -> HeadRecord | None:
    """The recorded head, or None if there is none (a store that never wrote with a key, or a
    data folder that was moved)."""
    path = head_record_path(keys, data_dir)
    try:
        data = json.loads(path.read_text(encoding="ascii"))
        seq, entry_hash = int(data["seq"]), str(data["hash"])
        genuine = hmac.compare_digest(str(data["mac"]), _mac(keys, seq, entry_hash))
        return HeadRecord(seq, entry_hash, str(data.get("at", "")), genuine)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return HeadRecord(0, "", "", genuine=False)


def forget_head(keys: StoreKeys, data_dir: Path) -> None:
    """Drop the record (a restore put an older ledger in place on purpose)."""
    head_record_path(keys, data_dir).unlink(missing_ok=True)
