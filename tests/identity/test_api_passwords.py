"""POST /v1/password/forgot, /v1/password/reset and /v1/password/change."""

from datetime import timedelta

import pytest

from shared.events import EventType, FailureReason
from tests.identity.conftest import PASSWORD, Identity, bearer, problem_code

NEW = "a brand new passphrase"


async def _reset_token(identity: Identity, email: str) -> str:
    answer = await identity.http.post("/v1/password/forgot", json={"email": email})
    assert answer.status_code == 202
    return await identity.token_from(EventType.PASSWORD_RESET_REQUESTED)


async def _reset(identity: Identity, token: str, new_password: str = NEW) -> int:
    answer = await identity.http.post(
        "/v1/password/reset", json={"token": token, "new_password": new_password}
    )
    return answer.status_code


async def test_forgot_answers_alike_for_known_and_unknown_addresses(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")

    known = await identity.http.post(
        "/v1/password/forgot", json={"email": "ADA@example.com"}
    )
    unknown = await identity.http.post(
        "/v1/password/forgot", json={"email": "no@example.com"}
    )

    assert known.status_code == unknown.status_code == 202
    assert known.text == unknown.text
    requested = await identity.last(EventType.PASSWORD_RESET_REQUESTED)
    expires_at = requested.data.token_expires_at  # type: ignore[attr-defined]
    assert expires_at - requested.occurred_at == timedelta(hours=1)
    assert requested.email == "ada@example.com"
    refused = await identity.last(EventType.PASSWORD_RESET_FAILED)
    assert (refused.reason, refused.user_id) == (FailureReason.UNKNOWN_EMAIL, None)


async def test_a_reset_sets_the_password_and_ends_earlier_sessions(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    before = await identity.access_token("ada@example.com")
    token = await _reset_token(identity, "ada@example.com")

    answer = await identity.http.post(
        "/v1/password/reset", json={"token": token, "new_password": NEW}
    )
    after = await identity.access_token(
        "ada@example.com", NEW
    )  # same second as the reset

    assert answer.status_code == 200
    assert answer.json() == {"status": "password_reset"}
    assert (await identity.log_in("ada@example.com", PASSWORD)).status_code == 401
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(before))
    ).status_code == 401
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(after))
    ).status_code == 200
    assert (await identity.last(EventType.PASSWORD_RESET_SUCCESS)).success


async def test_a_reset_token_is_single_use_and_superseded_by_a_newer_one(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    older = await _reset_token(identity, "ada@example.com")
    newer = await _reset_token(identity, "ada@example.com")

    assert await _reset(identity, older) == 400
    assert await _reset(identity, newer) == 200
    assert await _reset(identity, newer, "yet another passphrase") == 400
    failed = await identity.last(EventType.PASSWORD_RESET_FAILED)
    assert failed.reason == FailureReason.INVALID_OR_EXPIRED_TOKEN


async def test_a_reset_token_expires_after_an_hour(identity: Identity) -> None:
    await identity.register_verified("ada@example.com")
    token = await _reset_token(identity, "ada@example.com")
    identity.clock.advance(hours=1)

    answer = await identity.http.post(
        "/v1/password/reset", json={"token": token, "new_password": NEW}
    )

    assert answer.status_code == 400
    assert problem_code(answer) == "invalid_or_expired_token"


async def test_an_unknown_reset_token_is_refused_and_recorded(
    identity: Identity,
) -> None:
    answer = await identity.http.post(
        "/v1/password/reset", json={"token": "made-up", "new_password": NEW}
    )
    assert answer.status_code == 400
    assert problem_code(answer) == "invalid_or_expired_token"
    failed = await identity.last(EventType.PASSWORD_RESET_FAILED)
    assert (failed.reason, failed.user_id) == (
        FailureReason.INVALID_OR_EXPIRED_TOKEN,
        None,
    )


async def test_a_completed_reset_verifies_the_address_and_unlocks(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")  # never verified
    for _ in range(5):
        await identity.log_in("ada@example.com", "wrong horse battery")
    assert (await identity.log_in("ada@example.com")).status_code == 423
    token = await _reset_token(identity, "ada@example.com")

    assert await _reset(identity, token) == 200

    assert (await identity.log_in("ada@example.com", NEW)).status_code == 200
    unlocked = await identity.last(EventType.ACCOUNT_UNLOCKED)
    assert unlocked.data.cause == "password_reset"  # type: ignore[attr-defined]
    assert (await identity.last(EventType.EMAIL_VERIFIED)).user_id == unlocked.user_id


@pytest.mark.parametrize("new_password", ["short", "password123", "ada@example.com"])
async def test_a_reset_to_a_weak_password_is_refused_and_keeps_the_token(
    identity: Identity, new_password: str
) -> None:
    await identity.register_verified("ada@example.com")
    token = await _reset_token(identity, "ada@example.com")

    answer = await identity.http.post(
        "/v1/password/reset", json={"token": token, "new_password": new_password}
    )

    assert answer.status_code == 422
    assert problem_code(answer) == "validation_error"
    assert await _reset(identity, token) == 200


async def test_a_change_needs_the_current_password_and_ends_earlier_sessions(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    token = await identity.access_token("ada@example.com")
    pending_reset = await _reset_token(identity, "ada@example.com")

    wrong = await identity.http.post(
        "/v1/password/change",
        json={"current_password": "not it at all", "new_password": NEW},
        headers=bearer(token),
    )
    weak = await identity.http.post(
        "/v1/password/change",
        json={"current_password": PASSWORD, "new_password": "12345678"},
        headers=bearer(token),
    )
    changed = await identity.http.post(
        "/v1/password/change",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=bearer(token),
    )

    assert (wrong.status_code, problem_code(wrong)) == (401, "invalid_credentials")
    assert (weak.status_code, problem_code(weak)) == (422, "validation_error")
    assert changed.status_code == 200
    assert changed.json() == {"status": "password_changed"}
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(token))
    ).status_code == 401
    fresh = await identity.access_token("ada@example.com", NEW)
    assert (
        await identity.http.get("/v1/users/me", headers=bearer(fresh))
    ).status_code == 200
    assert await _reset(identity, pending_reset) == 400
    assert (await identity.last(EventType.PASSWORD_CHANGED)).success


async def test_a_change_without_a_valid_token_is_refused(identity: Identity) -> None:
    answer = await identity.http.post(
        "/v1/password/change", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert answer.status_code == 401
    assert problem_code(answer) == "invalid_token"
