"""The read models, derived from events one at a time.

The same function runs inside the append transaction and during a rebuild,
and it reads nothing but the event and the read models themselves (never the
clock), so a rebuild from the events gives the same rows.
"""

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.tables import (
    READ_MODELS,
    lockouts,
    revoked_tokens,
    single_use_tokens,
    users,
)
from identity.application.streams import ADDRESS_PREFIX, USER_PREFIX
from identity.domain.events import (
    AccountLocked,
    AccountUnlocked,
    DomainEvent,
    EmailVerified,
    IssuedToken,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    PasswordReset,
    PasswordResetRequested,
    Recorded,
    TokenKind,
    UserRegistered,
    VerificationResent,
)
from identity.domain.lockout import COUNTED_FAILURES, Lockout

_LOCKOUT_EVENTS = (
    LoginFailed,
    AccountLocked,
    AccountUnlocked,
    LoginSucceeded,
    PasswordReset,
)


async def project(
    conn: AsyncConnection, stream_id: str | None, recorded: Recorded
) -> None:
    """Apply one recorded event to the read models."""
    if stream_id is None:
        return
    event = recorded.event
    if stream_id.startswith(USER_PREFIX):
        await _project_user(conn, stream_id.removeprefix(USER_PREFIX), recorded)
    if isinstance(event, _LOCKOUT_EVENTS):
        await _project_lockout(conn, stream_id, recorded)


async def _project_user(
    conn: AsyncConnection, user_id: str, recorded: Recorded
) -> None:
    event = recorded.event
    match event:
        case UserRegistered():
            await conn.execute(
                insert(users).values(
                    user_id=user_id,
                    email=event.email,
                    canonical_email=event.canonical_email,
                    email_verified=False,
                    registered_at=recorded.occurred_at,
                    token_generation=0,
                )
            )
            # Attempts counted while nobody held the address end with it.
            await conn.execute(
                delete(lockouts).where(
                    lockouts.c.canonical_email == event.canonical_email
                )
            )
            await _replace_token(
                conn, user_id, TokenKind.VERIFICATION, event.verification
            )
        case EmailVerified():
            await _set_user(conn, user_id, email_verified=True)
            await _drop_tokens(conn, user_id, TokenKind.VERIFICATION)
        case VerificationResent(verification=token):
            await _replace_token(conn, user_id, TokenKind.VERIFICATION, token)
        case PasswordResetRequested(reset=token):
            await _replace_token(conn, user_id, TokenKind.RESET, token)
        case PasswordReset():
            await _set_user(
                conn,
                user_id,
                email_verified=True,
                token_generation=users.c.token_generation + 1,
            )
            await _drop_tokens(conn, user_id, TokenKind.VERIFICATION, TokenKind.RESET)
        case PasswordChanged():
            await _set_user(
                conn, user_id, token_generation=users.c.token_generation + 1
            )
            await _drop_tokens(conn, user_id, TokenKind.RESET)
        case LoggedOut(token_id=token_id, token_expires_at=expires_at):
            await conn.execute(
                insert(revoked_tokens).values(
                    token_id=token_id, user_id=user_id, expires_at=expires_at
                )
            )


async def _set_user(conn: AsyncConnection, user_id: str, **values: object) -> None:
    await conn.execute(update(users).where(users.c.user_id == user_id).values(**values))


async def _replace_token(
    conn: AsyncConnection, user_id: str, kind: TokenKind, token: IssuedToken
) -> None:
    """A newer token of a kind supersedes the older ones."""
    await _drop_tokens(conn, user_id, kind)
    await conn.execute(
        insert(single_use_tokens).values(
            token_hash=token.token_hash,
            kind=kind.value,
            user_id=user_id,
            expires_at=token.expires_at,
        )
    )


async def _drop_tokens(conn: AsyncConnection, user_id: str, *kinds: TokenKind) -> None:
    await conn.execute(
        delete(single_use_tokens).where(
            single_use_tokens.c.user_id == user_id,
            single_use_tokens.c.kind.in_([k.value for k in kinds]),
        )
    )


async def _project_lockout(
    conn: AsyncConnection, stream_id: str, recorded: Recorded
) -> None:
    user_id: str | None = None
    if stream_id.startswith(ADDRESS_PREFIX):
        canonical = stream_id.removeprefix(ADDRESS_PREFIX)
    else:
        user_id = stream_id.removeprefix(USER_PREFIX)
        found = await conn.scalar(
            select(users.c.canonical_email).where(users.c.user_id == user_id)
        )
        if found is None:
            return
        canonical = found
    row = (
        await conn.execute(
            select(lockouts.c.failed_attempts, lockouts.c.locked_until).where(
                lockouts.c.canonical_email == canonical
            )
        )
    ).first()
    before = Lockout(row.failed_attempts, row.locked_until) if row else Lockout()
    after = before.evolve(recorded.event)
    if row is not None and after == before:
        return
    if row is None and after == Lockout():
        return
    values: dict[str, object] = {
        "user_id": user_id,
        "failed_attempts": after.failed_attempts,
        "locked_until": after.locked_until,
    }
    if _is_counted_failure(recorded.event):
        values["last_failure_at"] = recorded.occurred_at
    if row is None:
        await conn.execute(insert(lockouts).values(canonical_email=canonical, **values))
    else:
        await conn.execute(
            update(lockouts)
            .where(lockouts.c.canonical_email == canonical)
            .values(**values)
        )


def _is_counted_failure(event: DomainEvent) -> bool:
    return isinstance(event, LoginFailed) and event.reason in COUNTED_FAILURES


async def clear_read_models(conn: AsyncConnection) -> None:
    for table in reversed(READ_MODELS):
        await conn.execute(delete(table))
