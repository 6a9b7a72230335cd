"""Password hashing for HQ accounts: salted scrypt, parameters stored with each hash."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import secrets

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # scrypt hashes any length; the bound stops memory abuse

# scrypt at n=2**14, r=8 costs ~16 MiB and tens of milliseconds: cheap for a login, dear
# for a guesser. The parameters travel with each hash so they can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 1 << 14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password`` with a fresh 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(want), maxmem=64 << 20)
    except ValueError:
        log.error("a stored password hash is malformed; that account cannot log in")
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def dummy_hash() -> str:
    """Checked when the username is unknown, so a miss costs as long as a wrong password."""
    return hash_password("not-a-password", salt=b"\x00" * 16)
