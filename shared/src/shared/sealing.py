"""Sealing of the single-use tokens that the notifier puts into emails.

Identity seals a token with a key that only identity and the notifier hold
(Fernet: AES-128-CBC with HMAC-SHA256), so nobody else reading the topic, the
audit service included, can recover it.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared.secret_files import load_or_create
from shared.settings import SealingSettings


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


def sealer_from_settings(settings: SealingSettings) -> TokenSealer:
    """The sealer of the configured keys, or of the data folder's key file."""
    if settings.token_sealing_keys is not None:
        keys = settings.token_sealing_keys.get_secret_value().split(",")
        return TokenSealer([k.strip().encode() for k in keys if k.strip()])
    key = load_or_create(settings.token_sealing_key_file, TokenSealer.generate_key)
    return TokenSealer([key.strip()])
