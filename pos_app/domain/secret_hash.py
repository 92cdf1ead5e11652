"""The scrypt hash format of operator passwords and card PINs: "scrypt$n$r$p$salt$hash".

Pure (the salt is passed in), so the till's services and HQ make and check the very same
hashes: a password set at HQ signs in at every till it goes down to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# n=2**14, r=8 costs ~16 MiB and tens of milliseconds: cheap for one check at the till,
# expensive for someone trying all 10**6 PINs against a stolen database.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16


def scrypt_hash(secret: str, salt: bytes) -> str:
    """The stored form of `secret` with this salt (the caller draws a fresh random salt)."""
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_secret(secret: str, stored: str) -> bool:
    """Whether `secret` is the one `stored` was made from (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        secret.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
