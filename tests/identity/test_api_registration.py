"""POST /v1/users, /v1/users/verification and /v1/users/verification/resend."""

import hashlib
from datetime import timedelta

import pytest

from shared.events import EventType, FailureReason
from tests.identity.conftest import PASSWORD, Identity, problem_code, published_bytes


async def test_registration_answers_202_alike_for_a_new_and_a_taken_address(
    identity: Identity,
) -> None:
    first = await identity.register("Ada.Lovelace@Example.COM")
    again = await identity.register(
        "  ada.lovelace@example.com ", "another good passphrase"
    )

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() == {"status": "verification_pending"}
    assert first.headers.keys() == again.headers.keys()

    registered, refused = await identity.envelopes()
    assert registered.event_type == EventType.REGISTRATION_SUCCESS
    assert registered.email == "Ada.Lovelace@example.com"
    assert registered.user_id is not None and registered.stream_version == 1
    assert registered.data.token_expires_at is not None  # type: ignore[attr-defined]
    lifetime = registered.data.token_expires_at - registered.occurred_at  # type: ignore[attr-defined]
    assert lifetime == timedelta(hours=24)
    assert refused.event_type == EventType.REGISTRATION_FAILED
    assert refused.reason == FailureReason.EMAIL_ALREADY_REGISTERED
    assert (refused.user_id, refused.email) == (registered.user_id, registered.email)
    assert refused.stream_version == 2


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-address", PASSWORD, "email"),
        ("ada@example.com\r\nBcc: x@example.com", PASSWORD, "email"),
        ("ada@example.com", "short", "password"),
        ("ada@example.com", "x" * 257, "password"),
        ("ada@example.com", "password123", "password"),
        ("ada@example.com", "ADA@example.com", "password"),
    ],
)
async def test_a_bad_address_or_password_is_a_validation_error_and_an_event(
    identity: Identity, email: str, password: str, field: str
) -> None:
    answer = await identity.register(email, password)

    assert answer.status_code == 422
    assert problem_code(answer) == "validation_error"
    assert [e["loc"] for e in answer.json()["errors"]] == [["body", field]]
    (refused,) = await identity.envelopes()
    assert refused.event_type == EventType.REGISTRATION_FAILED
    assert refused.reason == FailureReason.VALIDATION_ERROR
    assert refused.user_id is None and not refused.success


async def test_verification_with_the_emailed_token_verifies_once(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")
    token = await identity.token_from(EventType.REGISTRATION_SUCCESS)

    verified = await identity.http.post("/v1/users/verification", json={"token": token})
    replayed = await identity.http.post("/v1/users/verification", json={"token": token})

    registered = await identity.last(EventType.REGISTRATION_SUCCESS)
    assert verified.status_code == 200
    assert verified.json() == {"status": "verified", "user_id": str(registered.user_id)}
    assert replayed.status_code == 400
    assert problem_code(replayed) == "invalid_or_expired_token"
    event = await identity.last(EventType.EMAIL_VERIFIED)
    assert (event.user_id, event.stream_version) == (registered.user_id, 2)
    failed = await identity.last(EventType.EMAIL_VERIFICATION_FAILED)
    assert failed.reason == FailureReason.INVALID_OR_EXPIRED_TOKEN


@pytest.mark.parametrize("token", ["unknown-token", "x" * 512, ""])
async def test_an_unknown_or_malformed_token_is_refused(
    identity: Identity, token: str
) -> None:
    answer = await identity.http.post("/v1/users/verification", json={"token": token})
    if token:
        assert answer.status_code == 400
        assert problem_code(answer) == "invalid_or_expired_token"
        failed = await identity.last(EventType.EMAIL_VERIFICATION_FAILED)
        assert failed.user_id is None
    else:
        assert problem_code(answer) == "validation_error"


async def test_a_verification_token_expires_after_24_hours(identity: Identity) -> None:
    await identity.register("ada@example.com")
    token = await identity.token_from(EventType.REGISTRATION_SUCCESS)
    identity.clock.advance(hours=24)

    answer = await identity.http.post("/v1/users/verification", json={"token": token})

    assert answer.status_code == 400
    failed = await identity.last(EventType.EMAIL_VERIFICATION_FAILED)
    assert failed.user_id is not None  # known token, expired: on the user's stream


async def test_a_resent_token_supersedes_the_older_one(identity: Identity) -> None:
    await identity.register("ada@example.com")
    older = await identity.token_from(EventType.REGISTRATION_SUCCESS)

    resent = await identity.http.post(
        "/v1/users/verification/resend", json={"email": "ADA@example.com"}
    )
    newer = await identity.token_from(EventType.VERIFICATION_RESENT)

    assert resent.status_code == 202
    assert newer != older
    refused = await identity.http.post("/v1/users/verification", json={"token": older})
    assert refused.status_code == 400
    accepted = await identity.http.post("/v1/users/verification", json={"token": newer})
    assert accepted.status_code == 200


async def test_resend_answers_alike_for_unknown_pending_and_verified_addresses(
    identity: Identity,
) -> None:
    await identity.register_verified("verified@example.com")
    await identity.register("pending@example.com")

    answers = [
        await identity.http.post("/v1/users/verification/resend", json={"email": email})
        for email in (
            "nobody@example.com",
            "pending@example.com",
            "verified@example.com",
        )
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    resent = [
        e
        for e in await identity.envelopes()
        if e.event_type == EventType.VERIFICATION_RESENT
    ]
    unknown, pending, verified = resent
    assert (unknown.success, unknown.reason, unknown.user_id) == (
        False,
        "unknown_email",
        None,
    )
    assert unknown.data.sealed_token is None  # type: ignore[attr-defined]
    expected_key = "email:" + hashlib.sha256(b"nobody@example.com").hexdigest()
    assert unknown.key == expected_key.encode()
    assert (pending.success, pending.reason) == (True, None)
    assert pending.data.sealed_token  # type: ignore[attr-defined]
    assert (verified.success, verified.reason) == (False, "already_verified")
    assert verified.data.sealed_token is None  # type: ignore[attr-defined]


async def test_resend_refuses_a_malformed_address(identity: Identity) -> None:
    answer = await identity.http.post(
        "/v1/users/verification/resend", json={"email": "nope"}
    )
    assert answer.status_code == 422
    assert problem_code(answer) == "validation_error"


async def test_no_password_hash_or_token_ever_leaves_the_service(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")
    token = await identity.token_from(EventType.REGISTRATION_SUCCESS)
    await identity.http.post("/v1/users/verification", json={"token": token})
    access = await identity.access_token("ada@example.com")

    published = await published_bytes(identity)

    for secret in (
        PASSWORD,
        "$argon2",
        token,
        hashlib.sha256(token.encode()).hexdigest(),
        access,
    ):
        assert secret.encode() not in published
