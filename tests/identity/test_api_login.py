"""POST /v1/auth/token: credentials, verification, lockout, unknown addresses."""

from collections.abc import AsyncIterator
from uuid import UUID

import jwt
import pytest

from identity.settings import IdentitySettings
from shared.events import EventType, FailureReason
from tests.identity.conftest import PASSWORD, Identity, problem_code, running

WRONG = "wrong horse battery"


async def test_the_right_password_gives_a_bearer_token_for_24_hours(
    identity: Identity,
) -> None:
    user_id = await identity.register_verified("ada@example.com")

    answer = await identity.log_in("ADA@Example.com")

    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user_id
    assert claims["exp"] - claims["iat"] == 86400
    event = await identity.last(EventType.LOGIN_SUCCESS)
    assert event.data.token_id == claims["jti"]  # type: ignore[attr-defined]
    assert (str(event.user_id), event.email, event.ip) == (
        user_id,
        "ada@example.com",
        "203.0.113.7",
    )


async def test_the_oauth2_password_form_logs_in_too(identity: Identity) -> None:
    await identity.register_verified("ada@example.com")

    answer = await identity.http.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "ada@example.com",
            "password": PASSWORD,
        },
    )

    assert answer.status_code == 200
    assert answer.json()["token_type"] == "bearer"


async def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")

    wrong = await identity.log_in("ada@example.com", WRONG)
    unknown = await identity.log_in("nobody@example.com", WRONG)

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text == unknown.text
    assert problem_code(wrong) == "invalid_credentials"
    failed = [
        e for e in await identity.envelopes() if e.event_type == EventType.LOGIN_FAILED
    ]
    assert [(e.reason, e.data.failed_attempts) for e in failed] == [  # type: ignore[attr-defined]
        (FailureReason.INVALID_PASSWORD, 1),
        (FailureReason.UNKNOWN_EMAIL, 1),
    ]
    assert failed[1].user_id is None and failed[1].email == "nobody@example.com"


async def test_email_not_verified_is_only_said_after_the_right_password(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")

    wrong = await identity.log_in("ada@example.com", WRONG)
    right = await identity.log_in("ada@example.com")

    assert wrong.status_code == 401
    assert right.status_code == 403
    assert problem_code(right) == "email_not_verified"
    assert (await identity.last(EventType.LOGIN_FAILED)).reason == "email_not_verified"


@pytest.mark.parametrize(
    "registered", [True, False], ids=["account", "unknown-address"]
)
async def test_five_failures_lock_the_address_for_30_minutes(
    identity: Identity, registered: bool
) -> None:
    if registered:
        await identity.register_verified("ada@example.com")

    statuses = [
        (await identity.log_in("Ada@example.com", WRONG)).status_code for _ in range(5)
    ]
    locked = await identity.log_in("ada@example.com")  # even the right password

    assert statuses == [401, 401, 401, 401, 423]
    assert locked.status_code == 423
    assert problem_code(locked) == "account_locked"
    assert 1790 <= int(locked.headers["Retry-After"]) <= 1800
    lock = await identity.last(EventType.ACCOUNT_LOCKED)
    assert lock.data.failed_attempts == 5  # type: ignore[attr-defined]
    assert (lock.user_id is not None) is registered
    refusal = await identity.last(EventType.LOGIN_FAILED)
    assert refusal.reason == FailureReason.ACCOUNT_LOCKED

    identity.clock.advance(minutes=30)
    after = await identity.log_in("ada@example.com")

    assert after.status_code == (200 if registered else 401)
    unlocked = await identity.last(EventType.ACCOUNT_UNLOCKED)
    assert unlocked.data.cause == "expired"  # type: ignore[attr-defined]


async def test_a_success_resets_the_count_and_other_accounts_do_not(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    await identity.register_verified("bob@example.com")

    for _ in range(4):
        await identity.log_in("ada@example.com", WRONG)
    await identity.log_in("bob@example.com")  # another account's success
    fifth = await identity.log_in("ada@example.com", WRONG)
    assert fifth.status_code == 423

    await identity.register_verified("cyd@example.com")
    for _ in range(4):
        await identity.log_in("cyd@example.com", WRONG)
    assert (await identity.log_in("cyd@example.com")).status_code == 200
    assert (await identity.log_in("cyd@example.com", WRONG)).status_code == 401


@pytest.fixture
async def second_client(identity: Identity) -> AsyncIterator[Identity]:
    """The same service reached from another address."""
    settings: IdentitySettings = identity.settings
    async with running(settings, client_ip="198.51.100.9") as other:
        yield other


async def test_failures_count_per_account_whatever_the_ip(
    identity: Identity, second_client: Identity
) -> None:
    await identity.register_verified("ada@example.com")

    for client in (identity, second_client, identity, second_client):
        assert (await client.log_in("ada@example.com", WRONG)).status_code == 401
    assert (await second_client.log_in("ada@example.com", WRONG)).status_code == 423

    ips = [
        e.ip
        for e in await identity.envelopes()
        if e.event_type == EventType.LOGIN_FAILED
    ]
    assert ips == ["203.0.113.7", "198.51.100.9"] * 2 + ["198.51.100.9"]


@pytest.mark.parametrize(
    "body",
    [{"email": "ada@example.com"}, {"email": "not-an-email", "password": PASSWORD}, []],
)
async def test_a_malformed_login_is_a_validation_error(
    identity: Identity, body: object
) -> None:
    answer = await identity.http.post("/v1/auth/token", json=body)
    assert answer.status_code == 422
    assert problem_code(answer) == "validation_error"


async def test_events_record_the_user_agent_and_how_long_the_request_took(
    identity: Identity,
) -> None:
    await identity.log_in("nobody@example.com", WRONG)

    failed = await identity.last(EventType.LOGIN_FAILED)

    assert failed.user_agent == "identity-tests/1.0"
    assert failed.duration_ms is not None and failed.duration_ms > 0
    assert failed.user_id is None and failed.stream_version is None
    UUID(str(failed.event_id))


async def test_a_malformed_form_login_names_the_form_fields(identity: Identity) -> None:
    answer = await identity.http.post("/v1/auth/token", data={"password": PASSWORD})
    wrong_grant = await identity.http.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "username": "a@b.co",
            "password": "x",
        },
    )

    assert answer.status_code == wrong_grant.status_code == 422
    assert [e["loc"] for e in answer.json()["errors"]] == [["body", "username"]]
    assert [e["loc"] for e in wrong_grant.json()["errors"]] == [["body", "grant_type"]]
