"""The till's sync key pair: written once, owner-only, and the public key is the one HQ needs."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos_app.domain.sync_signing import MemoryNonceRegistry, sign_request, verify_request
from pos_app.services.sync_identity import (
    SyncKeyError,
    create_key_pair,
    load_private_key,
    public_key_text,
    sync_key_path,
)

TILL = "SH01-01"


def test_the_private_key_file_is_owner_only(tmp_path: Path):
    create_key_pair(tmp_path / "keys", TILL)
    path = sync_key_path(tmp_path / "keys", TILL)
    assert path.name == "SH01-01.sync-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert [p.name for p in (tmp_path / "keys").iterdir()] == [path.name]  # no temp left


def test_the_public_key_returned_matches_the_private_key(tmp_path: Path):
    public = create_key_pair(tmp_path, TILL)
    raw = base64.b64decode(public, validate=True)
    assert len(raw) == 32
    private = load_private_key(tmp_path, TILL)
    assert public_key_text(private) == public
    # HQ, knowing only the returned text, verifies what the till signs with the file's key
    now = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    headers = sign_request(private, TILL, "POST", "/v1/push", b"{}", now)
    till = verify_request(
        {TILL: raw}.get, "POST", "/v1/push", headers, b"{}", now, MemoryNonceRegistry()
    )
    assert till == TILL
    Ed25519PublicKey.from_public_bytes(raw).verify(private.sign(b"x"), b"x")


def test_a_key_file_is_never_overwritten(tmp_path: Path):
    first = create_key_pair(tmp_path, TILL)
    before = sync_key_path(tmp_path, TILL).read_bytes()
    with pytest.raises(SyncKeyError) as caught:
        create_key_pair(tmp_path, TILL)
    assert caught.value.code == "sync_key_exists"
    assert sync_key_path(tmp_path, TILL).read_bytes() == before
    assert public_key_text(load_private_key(tmp_path, TILL)) == first


def test_two_tills_keep_two_keys(tmp_path: Path):
    assert create_key_pair(tmp_path, "SH01-01") != create_key_pair(tmp_path, "SH01-02")


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SyncKeyError) as caught:
        load_private_key(tmp_path, TILL)
    assert caught.value.code == "sync_key_missing"
    assert "sync setup" in caught.value.en and "POS_KEY_DIR" in caught.value.zh


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o602])
def test_a_key_file_open_to_others_is_refused(tmp_path: Path, mode: int):
    create_key_pair(tmp_path, TILL)
    path = sync_key_path(tmp_path, TILL)
    path.chmod(mode)
    with pytest.raises(SyncKeyError) as caught:
        load_private_key(tmp_path, TILL)
    assert caught.value.code == "sync_key_too_open"
    assert "chmod 600" in caught.value.en
    path.chmod(0o400)  # owner read-only is fine
    load_private_key(tmp_path, TILL)


def test_a_damaged_key_file_is_refused_without_quoting_it(tmp_path: Path):
    path = sync_key_path(tmp_path, TILL)
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
    path.chmod(0o600)
    with pytest.raises(SyncKeyError) as caught:
        load_private_key(tmp_path, TILL)
    assert caught.value.code == "sync_key_unreadable"
    assert "c2VjcmV0" not in caught.value.en + caught.value.zh


def test_a_till_id_cannot_point_outside_the_key_folder(tmp_path: Path):
    for bad in ("../SH01-01", "", ".hidden", "a/b"):
        with pytest.raises(ValueError):
            create_key_pair(tmp_path / "keys", bad)
    assert not (tmp_path / "SH01-01.sync-key").exists()
