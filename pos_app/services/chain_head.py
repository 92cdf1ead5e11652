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

It is on the path of every sale, so it is cheap: two fixed-size slots written in place
(even sequence numbers in the first, odd in the second) with one `pwrite`, no temporary
file and no rename. A write torn by a power cut spoils one slot at most; the other still
holds the head before it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pos_app.services.store_secret import StoreKeys


@dataclass(frozen=True)
class HeadRecord:
    seq: int
    hash: str
    at: str
    genuine: bool  # its MAC checks out with the store's key


SLOT_BYTES = 256


def head_record_path(keys: StoreKeys, data_dir: Path) -> Path:
    return _path(keys.path, keys.store_id, str(data_dir))


@functools.lru_cache(maxsize=64)
def _path(key_path: Path, store_id: str, data_dir: str) -> Path:
    # resolve() costs a few system calls: once per data folder, not once per sale.
    folder = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    return key_path.with_name(f"{store_id}-{folder}.head")


def _mac(keys: StoreKeys, seq: int, entry_hash: str) -> str:
    message = f"{keys.store_id}:{seq}:{entry_hash}".encode()
    return hmac.new(keys.head_record, message, hashlib.sha256).hexdigest()


def write_head(keys: StoreKeys, data_dir: Path, seq: int, entry_hash: str, at: str) -> None:
    """Record the head after a committed write. Best effort: a failure to write it (a full
    disk, a read-only key folder) must not turn a committed sale into an error."""
    body = json.dumps(
        {"seq": seq, "hash": entry_hash, "at": at, "mac": _mac(keys, seq, entry_hash)}
    ).encode("utf-8")
    if len(body) >= SLOT_BYTES:
        return  # cannot happen for the app's own heads (hex hash, ISO time)
    slot = body.ljust(SLOT_BYTES - 1) + b"\n"
    try:
        fd = os.open(head_record_path(keys, data_dir), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, slot, (seq % 2) * SLOT_BYTES)
        finally:
            os.close(fd)
    except OSError:
        pass


def read_head(keys: StoreKeys, data_dir: Path) -> HeadRecord | None:
    """The recorded head (the newer of the two slots that check out), or None if there is
    none (a store that never wrote with a key, or a data folder that was moved). A record
    of which no slot checks out is returned as not genuine."""
    path = head_record_path(keys, data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return HeadRecord(0, "", "", genuine=False)
    slots = [_slot(keys, raw[i : i + SLOT_BYTES]) for i in range(0, len(raw), SLOT_BYTES)]
    genuine = [slot for slot in slots if slot is not None]
    if not genuine:
        return HeadRecord(0, "", "", genuine=False)
    return max(genuine, key=lambda head: head.seq)


def _slot(keys: StoreKeys, raw: bytes) -> HeadRecord | None:
    try:
        data = json.loads(raw.decode("utf-8"))
        seq, entry_hash = int(data["seq"]), str(data["hash"])
        if not hmac.compare_digest(str(data["mac"]), _mac(keys, seq, entry_hash)):
            return None
        return HeadRecord(seq, entry_hash, str(data.get("at", "")), genuine=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None  # a slot never written (zeros), torn by a power cut, or forged


def forget_head(keys: StoreKeys, data_dir: Path) -> None:
    """Drop the record (a restore put an older ledger in place on purpose)."""
    head_record_path(keys, data_dir).unlink(missing_ok=True)
