"""Password hashing with argon2id (argon2-cffi): memory-hard, the OWASP first choice."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@lru_cache(maxsize=2)
def hasher(profile: str = "default") -> PasswordHasher:
    if profile == "fast":  # the test suite only: same algorithm, tiny cost
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()  # RFC 9106 low-memory profile: t=3, m=64 MiB, p=4


def hash_password(password: str, profile: str = "default") -> str:
    return hasher(profile).hash(password)


def verify_password(stored_hash: str, password: str, profile: str = "default") -> bool:
    try:
        return hasher(profile).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verifying against this when the e-mail is unknown keeps sign-in time the same either way.
@lru_cache(maxsize=2)
def dummy_hash(profile: str = "default") -> str:
    return hash_password("not-a-real-password-at-all", profile)
