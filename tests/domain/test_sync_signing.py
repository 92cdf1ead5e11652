"""Signed sync requests: what HQ accepts, and every way a request is refused, with its code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.sync_signing import (
    HEADER_CONTENT_SHA256,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TILL,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
    SIGNED_HEADERS,
    MemoryNonceRegistry,
    SyncAuthError,
    SyncForbidden,
    SyncReplayed,
    SyncUnauthorized,
    body_sha256,
    check_owner,
    public_key_bytes,
    sign_request,
    store_of,
    verify_request,
)

NOW = datetime(2026, 12, 6, 6, 0, 0, tzinfo=UTC)
TILL = "SH01-01"
OTHER = "SH01-02"
PATH = "/v1/tills/SH01-01/entries?from=101&limit=1000"
BODY = b'{"entries": [{"seq": 101, "amount_fen": 5000}]}'
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
KEYS = {TILL: public_key_bytes(KEY), OTHER: public_key_bytes(OTHER_KEY)}


def signed(**overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "private_key": KEY,
        "till": TILL,
        "method": "post",
        "path": PATH,
        "body": BODY,
        "now": NOW,
    }
    args.update(overrides)
    return sign_request(**args)  # type: ignore[arg-type]


def verify(
    headers: dict[str, str],
    *,
    method: str = "POST",
    path: str = PATH,
    body: bytes = BODY,
    now: datetime = NOW,
    nonces: MemoryNonceRegistry | None = None,
) -> str:
    if nonces is None:  # not `or`: an empty registry has len 0
        nonces = MemoryNonceRegistry()
    return verify_request(KEYS.get, method, path, headers, body, now, nonces)


def refused(code: str, headers: dict[str, str], **kwargs: object) -> SyncAuthError:
    with pytest.raises(SyncAuthError) as caught:
        verify(headers, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value.en
    return caught.value


def test_a_signed_request_verifies_and_names_its_till():
    headers = signed()
    assert set(headers) == set(SIGNED_HEADERS)
    assert headers[HEADER_TILL] == TILL
    assert headers[HEADER_TIMESTAMP] == str(int(NOW.timestamp()))
    assert headers[HEADER_CONTENT_SHA256] == body_sha256(BODY)
    assert len(base64.b64decode(headers[HEADER_SIGNATURE])) == 64
    assert verify(headers) == TILL


def test_header_names_are_matched_whatever_their_case():
    headers = {name.lower(): value for name, value in signed().items()}
    assert verify(headers, method="post") == TILL


def test_an_empty_body_signs_and_verifies():
    assert verify(signed(method="GET", body=b""), method="GET", body=b"") == TILL


def test_each_request_gets_a_fresh_nonce_of_at_least_16_bytes():
    first, second = signed()[HEADER_NONCE], signed()[HEADER_NONCE]
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "==")) >= 16


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "PUT"}, "sync_bad_signature"),
        ({"path": "/v1/tills/SH01-01/entries"}, "sync_bad_signature"),
        ({"path": "/v1/tills/SH01-01/entries?from=101&limit=999"}, "sync_bad_signature"),
        ({"path": "/v1/tills/SH01-02/entries?from=101&limit=1000"}, "sync_bad_signature"),
        ({"body": BODY.replace(b"5000", b"9000")}, "sync_body_mismatch"),
        ({"body": BODY[:-1]}, "sync_body_mismatch"),
    ],
)
def test_a_request_changed_after_signing_is_refused(change, code):
    err = refused(code, signed(), **change)
    assert isinstance(err, SyncUnauthorized) and err.http_status == 401


def test_a_body_and_digest_both_replaced_fail_the_signature():
    forged_body = BODY.replace(b"5000", b"9000")
    headers = signed() | {HEADER_CONTENT_SHA256: body_sha256(forged_body)}
    refused("sync_bad_signature", headers, body=forged_body)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (HEADER_TIMESTAMP, str(int(NOW.timestamp()) + 1)),
        (HEADER_NONCE, "A" * 22),
        (HEADER_TILL, OTHER),
    ],
)
def test_a_changed_signed_header_is_refused(header, value):
    refused("sync_bad_signature", signed() | {header: value})


def test_a_changed_signature_byte_is_refused():
    headers = signed()
    raw = bytearray(base64.b64decode(headers[HEADER_SIGNATURE]))
    raw[10] ^= 0x01
    refused(
        "sync_bad_signature",
        headers | {HEADER_SIGNATURE: base64.b64encode(bytes(raw)).decode()},
    )


def test_a_signature_made_with_another_tills_key_is_refused():
    refused("sync_bad_signature", signed(private_key=OTHER_KEY))
    # and the other till's own request, relabelled as this till's, is refused too
    theirs = signed(private_key=OTHER_KEY, till=OTHER)
    refused("sync_bad_signature", theirs | {HEADER_TILL: TILL})
    assert verify(theirs) == OTHER


@pytest.mark.parametrize("missing", SIGNED_HEADERS)
def test_an_unsigned_or_partly_signed_request_is_refused(missing):
    headers = signed()
    del headers[missing]
    err = refused("sync_header_missing", headers)
    assert missing in err.en and missing in err.zh
    refused("sync_header_missing", signed() | {missing: ""})


def test_a_request_with_no_headers_at_all_is_refused():
    refused("sync_header_missing", {})


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (HEADER_TIMESTAMP, "12.5"),
        (HEADER_TIMESTAMP, "-100"),
        (HEADER_NONCE, "short"),
        (HEADER_NONCE, "a" * 21 + "/"),
        (HEADER_CONTENT_SHA256, "AB" * 32),
        (HEADER_CONTENT_SHA256, "ab" * 31),
        (HEADER_TILL, "SH01-01\nPOST"),
        (HEADER_SIGNATURE, "not base64!"),
        (HEADER_SIGNATURE, base64.b64encode(b"x" * 63).decode()),
        (HEADER_SIGNATURE, "签名"),
    ],
)
def test_a_malformed_header_is_refused(header, value):
    refused("sync_header_malformed", signed() | {header: value})


def test_a_path_with_a_line_break_or_space_is_refused_before_anything_else():
    refused("sync_header_malformed", signed(), path=PATH + "\nX")
    refused("sync_header_malformed", signed(), path="/v1/a b")
    with pytest.raises(ValueError):
        signed(path="/v1/a b")


def test_an_unknown_till_is_refused():
    stranger = Ed25519PrivateKey.generate()
    err = refused("sync_unknown_till", signed(private_key=stranger, till="SH09-01"))
    assert "SH09-01" in err.en


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (MAX_SKEW_SECONDS, None),
        (-MAX_SKEW_SECONDS, None),
        (MAX_SKEW_SECONDS - 1, None),
        (-(MAX_SKEW_SECONDS - 1), None),
        (MAX_SKEW_SECONDS + 1, "sync_clock_ahead"),
        (-(MAX_SKEW_SECONDS + 1), "sync_clock_behind"),
        (3600, "sync_clock_ahead"),
        (-3600, "sync_clock_behind"),
    ],
)
def test_clock_skew_is_allowed_up_to_five_minutes_either_way(offset, code):
    """offset: how far the till's clock is ahead of HQ's."""
    headers = signed(now=NOW + timedelta(seconds=offset))
    if code is None:
        assert verify(headers) == TILL
    else:
        err = refused(code, headers)
        assert str(abs(offset)) in err.en


def test_a_replayed_request_is_refused_even_much_later_within_the_window():
    nonces = MemoryNonceRegistry()
    headers = signed()
    assert verify(headers, nonces=nonces) == TILL
    with pytest.raises(SyncReplayed) as caught:
        verify(headers, nonces=nonces, now=NOW + timedelta(seconds=MAX_SKEW_SECONDS))
    assert caught.value.code == "sync_replayed" and caught.value.http_status == 401
    # once outside the window, the clock check refuses it instead
    refused(
        "sync_clock_behind",
        headers,
        nonces=nonces,
        now=NOW + timedelta(seconds=MAX_SKEW_SECONDS + 1),
    )


def test_the_same_nonce_from_two_tills_is_not_a_replay():
    nonces = MemoryNonceRegistry()
    nonce = "n" * 22
    assert verify(signed(nonce=nonce), nonces=nonces) == TILL
    assert verify(signed(private_key=OTHER_KEY, till=OTHER, nonce=nonce), nonces=nonces) == OTHER


def test_a_refused_request_does_not_use_up_its_nonce():
    nonces = MemoryNonceRegistry()
    headers = signed()
    refused("sync_body_mismatch", headers, nonces=nonces, body=b"cut")
    refused("sync_bad_signature", headers | {HEADER_TILL: OTHER}, nonces=nonces)
    assert len(nonces) == 0
    assert verify(headers, nonces=nonces) == TILL


def test_nonce_memory_forgets_what_the_clock_check_already_refuses():
    nonces = MemoryNonceRegistry(window_seconds=300)
    start = 1_800_000_000
    for second in range(0, 3600, 10):  # one request every 10 s for an hour
        assert not nonces.seen_before(TILL, f"nonce-{second}", start + second)
    # what is kept covers two windows (600 s) at most, not the hour
    assert len(nonces) <= 600 // 10 + 1
    # a nonce still inside the window is remembered
    assert nonces.seen_before(TILL, f"nonce-{3600 - 10 - 300}", start + 3600 - 10 - 300)


def test_nonce_memory_keeps_everything_that_could_still_be_replayed():
    nonces = MemoryNonceRegistry(window_seconds=300)
    t = 1_800_000_000
    assert not nonces.seen_before(TILL, "old", t)
    # a till whose clock runs 5 min ahead pushes the newest timestamp forward ...
    assert not nonces.seen_before(OTHER, "fast", t + 600)
    # ... yet at HQ time t + 300 the first request would still pass the clock: kept
    assert nonces.seen_before(TILL, "old", t)


def test_a_till_may_send_only_its_own_and_its_stores_data():
    check_owner(TILL, till=TILL, store="SH01")
    check_owner(TILL)
    with pytest.raises(SyncForbidden) as caught:
        check_owner(TILL, till=OTHER)
    assert caught.value.code == "sync_forbidden" and caught.value.http_status == 403
    assert OTHER in caught.value.zh
    with pytest.raises(SyncForbidden):
        check_owner(TILL, store="SH02")
    with pytest.raises(SyncForbidden):
        check_owner(TILL, till="SH02-01", store="SH01")


def test_store_of_a_till():
    assert store_of("SH01-01") == "SH01"
    assert store_of("BJ-CY-03") == "BJ-CY"
    assert store_of("SH01") == "SH01"


def test_signing_needs_a_timezone_aware_time():
    with pytest.raises(ValueError):
        signed(now=NOW.replace(tzinfo=None))


def test_messages_are_in_chinese_and_english():
    err = refused("sync_clock_ahead", signed(now=NOW + timedelta(hours=1)))
    assert "时钟" in err.message("zh") and "clock" in err.message("en")


PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]


@given(index=st.integers(min_value=0), new_byte=st.integers(min_value=0, max_value=255))
def test_any_single_byte_change_to_the_body_is_refused(index, new_byte):
    headers = signed()
    index %= len(BODY)
    if BODY[index] == new_byte:
        new_byte = (new_byte + 1) % 256
    changed = BODY[:index] + bytes([new_byte]) + BODY[index + 1 :]
    with pytest.raises(SyncUnauthorized):
        verify(headers, body=changed)


@given(index=st.integers(min_value=0), new_char=st.sampled_from([*PRINTABLE, " ", "\n", "é"]))
def test_any_single_character_change_to_the_path_is_refused(index, new_char):
    headers = signed()
    index %= len(PATH)
    if PATH[index] == new_char:
        new_char = "~" if new_char != "~" else "!"
    changed = PATH[:index] + new_char + PATH[index + 1 :]
    with pytest.raises(SyncUnauthorized):
        verify(headers, path=changed)
