"""Concurrent logins on one account: the lockout counter stays exact."""

import asyncio
from collections import Counter

from sqlalchemy import select

from identity.adapters.tables import events
from shared.events import EventType, FailureReason
from tests.identity.conftest import Identity

WRONG = "wrong horse battery"


async def _stream_versions(identity: Identity, user_id: str) -> list[int]:
    engine = identity.app.state.engine
    async with engine.connect() as conn:
        rows = await conn.scalars(
            select(events.c.stream_version)
            .where(events.c.stream_id == f"user:{user_id}")
            .order_by(events.c.seq)
        )
        return list(rows)


async def test_twenty_concurrent_wrong_passwords_lock_once_after_five(
    identity: Identity,
) -> None:
    user_id = await identity.register_verified("ada@example.com")

    answers = await asyncio.gather(
        *(identity.log_in("ada@example.com", WRONG) for _ in range(20))
    )

    statuses = Counter(a.status_code for a in answers)
    assert statuses == {401: 4, 423: 16}
    recorded = [e for e in await identity.envelopes() if str(e.user_id) == user_id]
    kinds = Counter((e.event_type, e.reason) for e in recorded)
    assert kinds[(EventType.ACCOUNT_LOCKED, None)] == 1
    assert kinds[(EventType.LOGIN_FAILED, FailureReason.INVALID_PASSWORD)] == 5
    assert kinds[(EventType.LOGIN_FAILED, FailureReason.ACCOUNT_LOCKED)] == 15
    versions = await _stream_versions(identity, user_id)
    assert versions == list(range(1, len(versions) + 1))
    assert [e.stream_version for e in recorded] == versions


async def test_ten_concurrent_right_passwords_all_log_in(identity: Identity) -> None:
    user_id = await identity.register_verified("ada@example.com")

    answers = await asyncio.gather(
        *(identity.log_in("ada@example.com") for _ in range(10))
    )

    assert [a.status_code for a in answers] == [200] * 10
    assert len({a.json()["access_token"] for a in answers}) == 10
    versions = await _stream_versions(identity, user_id)
    assert versions == list(range(1, 13))


async def test_concurrent_registrations_of_one_address_make_one_account(
    identity: Identity,
) -> None:
    answers = await asyncio.gather(
        *(
            identity.register(f"{case}@example.com")
            for case in ("ada", "ADA", "Ada", "aDa")
        )
    )

    assert {a.status_code for a in answers} == {202}
    kinds = Counter(e.event_type for e in await identity.envelopes())
    assert kinds == {
        EventType.REGISTRATION_SUCCESS: 1,
        EventType.REGISTRATION_FAILED: 3,
    }


async def test_concurrent_failures_on_an_unknown_address_lock_it_once(
    identity: Identity,
) -> None:
    answers = await asyncio.gather(
        *(identity.log_in("nobody@example.com", WRONG) for _ in range(12))
    )

    assert Counter(a.status_code for a in answers) == {401: 4, 423: 8}
    kinds = Counter((e.event_type, e.reason) for e in await identity.envelopes())
    assert kinds[(EventType.ACCOUNT_LOCKED, None)] == 1
    assert kinds[(EventType.LOGIN_FAILED, FailureReason.UNKNOWN_EMAIL)] == 5
