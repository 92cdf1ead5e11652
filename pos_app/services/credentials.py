"""Slow salted hashes for operator passwords and card PINs (scrypt, from the standard library).

The format is self-describing ("scrypt$n$r$p$salt$hash", `pos_app.domain.secret_hash`) so the
cost can be raised later without invalidating stored hashes; HQ makes the same hashes.
"""

from __future__ import annotations

import os

from pos_app.domain.secret_hash import SALT_BYTES, scrypt_hash, verify_secret

__all__ = ["hash_secret", "verify_secret"]


def hash_secret(secret: str) -> str:
    return scrypt_hash(secret, os.urandom(SALT_BYTES))
