"""Single-use tokens for verification and reset links: random, kept hashed."""

import hashlib
import secrets

TOKEN_BYTES = 32
"""256 bits of randomness, URL-safe base64 (43 characters)."""


def new_token() -> tuple[str, str]:
    """A fresh raw token and the hash under which it is stored."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
