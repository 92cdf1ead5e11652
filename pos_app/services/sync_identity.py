"""The till's sync identity: its Ed25519 key pair, with which it signs every request to HQ.

The private key never leaves the till: `create_key_pair` writes it once, `load_private_key`
reads it back for signing, and only the public key (raw 32 bytes, base64) is sent to HQ at
enrollment. The file sits beside the store key, in the key folder (`POS_KEY_DIR`, or the
user's config folder; see `store_secret.default_key_dir`), never in the data folder, named
`<till>.sync-key`. It holds the key as unencrypted PKCS#8 PEM (what `openssl pkey` reads),
readable by its owner only (0600); a file others may read is refused rather than used,
because anyone who copied it could send data to HQ as this till.

A lost key file is not recovered: the till is enrolled again with a new key pair.
"""

from __future__ import annotations

import base64
import os
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.domain.errors import DomainError
from pos_app.domain.sync_signing import public_key_bytes
from pos_app.services.store_secret import _fsync_dir


class SyncKeyError(DomainError):
    """The till's sync key file is missing, exposed, damaged or already there."""

    code = "sync_key"


def sync_key_path(key_dir: Path, till_id: str) -> Path:
    """Where the till's private key lives inside the key folder."""
    if not till_id or "/" in till_id or "\\" in till_id or till_id.startswith("."):
        raise ValueError(f"not a till id: {till_id!r}")
    return key_dir / f"{till_id}.sync-key"


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    """The public key as HQ registers it: the raw 32 bytes, base64."""
    return base64.b64encode(public_key_bytes(private_key)).decode("ascii")


def create_key_pair(key_dir: Path, till_id: str) -> str:
    """Make the till's key pair, write the private key (0600, whole or not at all) and
    return the public key for enrollment (raw 32 bytes, base64). Refused if the till has a
    key file already: replacing it would silently cut the till off from HQ."""
    path = sync_key_path(key_dir, till_id)
    if path.exists():
        raise _exists(path)
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".sync-key-", dir=key_dir)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        # link, not replace: of two set-ups racing, one wins and the other is refused.
        os.link(tmp, path)
    except FileExistsError:
        raise _exists(path) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(key_dir)
    return public_key_text(private_key)


def load_private_key(key_dir: Path, till_id: str) -> Ed25519PrivateKey:
    """The till's private key, for signing. Refused when the file is missing, readable or
    writable by others than its owner, or not an Ed25519 key."""
    path = sync_key_path(key_dir, till_id)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SyncKeyError(
            f"收银机的同步密钥文件不存在：{path}。请先运行 pos-app sync setup 登记本收银机"
            "（或设置 POS_KEY_DIR 指向密钥所在的文件夹）",
            f"The till's sync key file is missing: {path}. Run pos-app sync setup to enroll "
            "this till (or point POS_KEY_DIR at the folder that holds the key)",
            code="sync_key_missing",
        ) from None
    if not stat.S_ISREG(mode):
        raise _unreadable(path, "not a regular file")
    if stat.S_IMODE(mode) & 0o077:
        raise SyncKeyError(
            f"收银机的同步密钥文件 {path} 权限过宽（{stat.S_IMODE(mode):o}），别人可能已读到它；"
            f"只允许本人读写：chmod 600 {path}",
            f"The till's sync key file {path} is open to others (mode "
            f"{stat.S_IMODE(mode):o}), so it may have been read; it must be owner-only: "
            f"chmod 600 {path}",
            code="sync_key_too_open",
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise _unreadable(path, exc.strerror or "cannot read") from None
    except (ValueError, TypeError):
        raise _unreadable(path, "not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _unreadable(path, "not an Ed25519 key")
    return key


def _exists(path: Path) -> SyncKeyError:
    return SyncKeyError(
        f"收银机的同步密钥文件已存在：{path}，不会覆盖",
        f"The till's sync key file already exists: {path}; it is never overwritten",
        code="sync_key_exists",
    )


def _unreadable(path: Path, why: str) -> SyncKeyError:
    # `why` never quotes the file's content: it is a private key.
    return SyncKeyError(
        f"无法读取收银机的同步密钥文件 {path}：{why}",
        f"Cannot read the till's sync key file {path}: {why}",
        code="sync_key_unreadable",
    )
