"""Queries on the read models: who holds an address, a token, a session."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.storage_errors import storage_call
from identity.adapters.tables import revoked_tokens, single_use_tokens, users
from identity.application.ports import Holder, Profile
from identity.domain.events import TokenKind


class Directory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @storage_call
    async def user_holding(self, canonical_email: str) -> Holder | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.user_id, users.c.email).where(
                        users.c.canonical_email == canonical_email
                    )
                )
            ).first()
        return Holder(UUID(row.user_id), row.email) if row else None

    @storage_call
    async def token_holder(self, token_hash: str, kind: TokenKind) -> UUID | None:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(single_use_tokens.c.user_id).where(
                    single_use_tokens.c.token_hash == token_hash,
                    single_use_tokens.c.kind == kind.value,
                )
            )
        return UUID(found) if found else None

    @storage_call
    async def session(self, user_id: UUID, token_id: str) -> Profile | None:
        """The profile behind an access token, or ``None`` if it was revoked."""
        async with self._engine.connect() as conn:
            revoked = await conn.scalar(
                select(revoked_tokens.c.token_id).where(
                    revoked_tokens.c.token_id == token_id
                )
            )
            if revoked is not None:
                return None
            row = (
                await conn.execute(select(users).where(users.c.user_id == str(user_id)))
            ).first()
        if row is None:
            return None
        return Profile(
            user_id=UUID(row.user_id),
            email=row.email,
            email_verified=row.email_verified,
            registered_at=row.registered_at,
            token_generation=row.token_generation,
        )
