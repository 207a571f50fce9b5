"""What the use cases need from the outside world, and the data it answers."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from identity.application.context import RequestContext
from identity.application.streams import StreamRef
from identity.domain.events import DomainEvent, Recorded, TokenKind
from shared.events import EventEnvelope


@dataclass(frozen=True)
class Verification:
    matches: bool
    new_hash: str | None = None
    """A re-hash with the current parameters when the stored one is outdated."""


@dataclass(frozen=True)
class Holder:
    """The account that holds an address, as stored."""

    user_id: UUID
    email: str


@dataclass(frozen=True)
class Profile:
    user_id: UUID
    email: str
    email_verified: bool
    registered_at: datetime
    token_generation: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    token_id: str
    generation: int
    """The user's token generation when issued: a password reset or change
    moves it on, and older tokens stop working."""
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class AccessToken:
    token: str
    claims: AccessClaims


class EventStore(Protocol):
    async def load(self, stream_id: str) -> list[Recorded]: ...

    async def append(
        self,
        stream: StreamRef,
        new_events: Sequence[DomainEvent],
        *,
        now: datetime,
        context: RequestContext,
        sealed: Mapping[str, str],
    ) -> list[EventEnvelope]: ...


class Directory(Protocol):
    async def user_holding(self, canonical_email: str) -> Holder | None: ...

    async def token_holder(self, token_hash: str, kind: TokenKind) -> UUID | None: ...

    async def session(self, user_id: UUID, token_id: str) -> Profile | None: ...


class Hasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password: str, stored_hash: str) -> Verification: ...

    async def spend_verification(self, password: str) -> None: ...


class AccessTokens(Protocol):
    def issue(
        self, user_id: UUID, token_id: str, generation: int, now: datetime
    ) -> AccessToken: ...

    def decode(self, token: str) -> AccessClaims: ...


class Sealer(Protocol):
    def seal(self, token: str) -> str: ...
