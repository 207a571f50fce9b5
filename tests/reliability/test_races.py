"""Races on one account: parallel requests leave exactly the outcome of some order.

tests/identity/test_concurrency.py covers one app: twenty parallel wrong
passwords lock once after five, ten parallel right passwords all log in,
case variants of one address registered in parallel make one account, an
unknown address locks once. Here: the same against two replicas sharing one
PostgreSQL database (two engines, two pools, as two processes would be), a
single-use token submitted in parallel, and spellings beyond case.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from identity.cli import MIGRATIONS
from shared import database
from shared.events import EventType, FailureReason
from tests.identity.conftest import Identity, running, settings_for
from tests.reliability.identity_store import stored_text

WRONG = "wrong horse battery"


@pytest.fixture
async def replicas(
    postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Identity, Identity]]:
    """Two instances of the service on one PostgreSQL database, keys and all."""
    settings = settings_for(postgres_url, tmp_path / "data")
    await database.upgrade(MIGRATIONS, postgres_url)
    async with (
        running(settings, client_ip="203.0.113.7") as first,
        running(settings, client_ip="198.51.100.9") as second,
    ):
        yield first, second


async def test_spellings_registered_in_parallel_make_one_account(
    identity: Identity,
) -> None:
    spellings = [
        "ada@example.com",
        "ADA@EXAMPLE.COM",
        " Ada@Example.com ",
        "\uff41\uff44\uff41@example.com",  # full width
        "ada@\uff25XAMPLE.com",
        "aDa@example.COM",
    ]

    answers = await asyncio.gather(*(identity.register(s) for s in spellings))

    assert {a.status_code for a in answers} == {202}
    envelopes = await identity.envelopes()
    kinds = Counter(e.event_type for e in envelopes)
    assert kinds == {
        EventType.REGISTRATION_SUCCESS: 1,
        EventType.REGISTRATION_FAILED: len(spellings) - 1,
    }
    (winner,) = [e for e in envelopes if e.event_type == EventType.REGISTRATION_SUCCESS]
    assert {str(e.user_id) for e in envelopes} == {str(winner.user_id)}


async def test_one_reset_token_submitted_in_parallel_resets_once(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    await identity.http.post("/v1/password/forgot", json={"email": "ada@example.com"})
    token = await identity.token_from(EventType.PASSWORD_RESET_REQUESTED)
    candidates = [f"new horse battery {n}" for n in range(10)]

    answers = await asyncio.gather(
        *(
            identity.http.post(
                "/v1/password/reset", json={"token": token, "new_password": p}
            )
            for p in candidates
        )
    )

    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 400: 9}
    (won,) = [
        p for p, a in zip(candidates, answers, strict=True) if a.status_code == 200
    ]
    loser = next(p for p in candidates if p != won)
    assert (await identity.log_in("ada@example.com", won)).status_code == 200
    assert (await identity.log_in("ada@example.com", loser)).status_code == 401
    kinds = Counter((e.event_type, e.reason) for e in await identity.envelopes())
    assert kinds[(EventType.PASSWORD_RESET_SUCCESS, None)] == 1
    assert (
        kinds[(EventType.PASSWORD_RESET_FAILED, FailureReason.INVALID_OR_EXPIRED_TOKEN)]
        == 9
    )


async def test_one_verification_token_submitted_in_parallel_verifies_once(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")
    token = await identity.token_from(EventType.REGISTRATION_SUCCESS)

    answers = await asyncio.gather(
        *(
            identity.http.post("/v1/users/verification", json={"token": token})
            for _ in range(10)
        )
    )

    assert Counter(a.status_code for a in answers) == {200: 1, 400: 9}
    kinds = Counter(e.event_type for e in await identity.envelopes())
    assert kinds[EventType.EMAIL_VERIFIED] == 1


@pytest.mark.postgres
async def test_wrong_passwords_across_two_replicas_lock_exactly_once(
    replicas: tuple[Identity, Identity],
) -> None:
    first, second = replicas
    user_id = await first.register_verified("ada@example.com")

    answers = await asyncio.gather(
        *(
            (first if n % 2 else second).log_in("ADA@example.com", WRONG)
            for n in range(20)
        )
    )

    assert Counter(a.status_code for a in answers) == {401: 4, 423: 16}
    recorded = [e for e in await first.envelopes() if str(e.user_id) == user_id]
    kinds = Counter((e.event_type, e.reason) for e in recorded)
    assert kinds[(EventType.ACCOUNT_LOCKED, None)] == 1
    assert kinds[(EventType.LOGIN_FAILED, FailureReason.INVALID_PASSWORD)] == 5
    versions = [e.stream_version for e in recorded]
    assert versions == list(range(1, len(recorded) + 1))


@pytest.mark.postgres
async def test_right_passwords_across_two_replicas_all_log_in(
    replicas: tuple[Identity, Identity],
) -> None:
    first, second = replicas
    await first.register_verified("ada@example.com")

    answers = await asyncio.gather(
        *((first if n % 2 else second).log_in("ada@example.com") for n in range(12))
    )

    assert [a.status_code for a in answers] == [200] * 12
    tokens = [a.json()["access_token"] for a in answers]
    for n, token in enumerate(tokens):  # each replica honours the other's tokens
        me = await (second if n % 2 else first).http.get(
            "/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 200


@pytest.mark.postgres
async def test_one_reset_token_across_two_replicas_resets_once(
    replicas: tuple[Identity, Identity],
) -> None:
    first, second = replicas
    await first.register_verified("ada@example.com")
    await first.http.post("/v1/password/forgot", json={"email": "ada@example.com"})
    token = await first.token_from(EventType.PASSWORD_RESET_REQUESTED)

    answers = await asyncio.gather(
        *(
            (first if n % 2 else second).http.post(
                "/v1/password/reset",
                json={"token": token, "new_password": f"new horse battery {n}"},
            )
            for n in range(10)
        )
    )

    assert Counter(a.status_code for a in answers) == {200: 1, 400: 9}
    kinds = Counter(e.event_type for e in await first.envelopes())
    assert kinds[EventType.PASSWORD_RESET_SUCCESS] == 1
    assert "new horse battery" not in await stored_text(first.app.state.engine)
