"""Which stream a command appends to, at which version, about whom."""

from dataclasses import dataclass
from uuid import UUID

from identity.domain.address import UnknownAddress
from identity.domain.user import User


@dataclass(frozen=True)
class StreamRef:
    """Where to append and what the events say about their subject.

    ``stream_id`` is ``None`` for a refusal that concerns no account and no
    counted address (a malformed registration, an unknown token): such an
    event is recorded and published but belongs to no stream.
    """

    stream_id: str | None
    expected_version: int
    user_id: UUID | None
    email: str | None

    @classmethod
    def of_user(cls, user: User) -> "StreamRef":
        return cls(user_stream_id(user.user_id), user.version, user.user_id, user.email)

    @classmethod
    def new_user(cls, user_id: UUID, email: str) -> "StreamRef":
        return cls(user_stream_id(user_id), 0, user_id, email)

    @classmethod
    def of_address(cls, address: UnknownAddress) -> "StreamRef":
        canonical = address.canonical_email
        return cls(address_stream_id(canonical), address.version, None, canonical)

    @classmethod
    def unattached(
        cls, email: str | None = None, user_id: UUID | None = None
    ) -> "StreamRef":
        return cls(None, 0, user_id, email)


USER_PREFIX = "user:"
ADDRESS_PREFIX = "address:"


def user_stream_id(user_id: UUID) -> str:
    return f"{USER_PREFIX}{user_id}"


def address_stream_id(canonical_email: str) -> str:
    """The stream of login attempts on an address no account holds."""
    return f"{ADDRESS_PREFIX}{canonical_email}"
