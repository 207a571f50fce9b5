"""Sealing of the single-use tokens that the notifier puts into emails.

Identity seals a token with a key that only identity and the notifier hold
(Fernet: AES-128-CBC with HMAC-SHA256), so nobody else reading the topic, the
audit service included, can recover it.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(ValueError):
    """A sealed token that is forged, corrupted or sealed with another key."""


class TokenSealer:
    """Seals with the first key; unseals with any, for key rotation."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one sealing key is required")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @staticmethod
    def generate_key() -> bytes:
        return Fernet.generate_key()

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise SealError("sealed token cannot be opened") from exc
