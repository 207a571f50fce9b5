"""Every event type of the contract survives the wire; malformed ones are named."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.events import (
    DATA_MODELS,
    EnvelopeError,
    EventEnvelope,
    EventType,
    decode_envelope,
    encode_envelope,
    partition_key,
)

CONTRACT_TYPES = {
    "registration_success",
    "registration_failed",
    "email_verified",
    "email_verification_failed",
    "verification_resent",
    "login_success",
    "login_failed",
    "account_locked",
    "account_unlocked",
    "logout",
    "password_reset_requested",
    "password_reset_failed",
    "password_reset_success",
    "password_changed",
    "email_sent",
    "email_failed",
}

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SAMPLE_DATA: dict[EventType, dict[str, object]] = {
    EventType.REGISTRATION_SUCCESS: {
        "sealed_token": "gAAAA-sealed",
        "token_expires_at": NOW.isoformat(),
    },
    EventType.VERIFICATION_RESENT: {
        "sealed_token": "gAAAA-sealed",
        "token_expires_at": NOW.isoformat(),
    },
    EventType.PASSWORD_RESET_REQUESTED: {
        "sealed_token": "gAAAA-sealed",
        "token_expires_at": NOW.isoformat(),
    },
    EventType.LOGIN_SUCCESS: {"token_id": "jti-1", "rehashed": True},
    EventType.LOGIN_FAILED: {"failed_attempts": 3},
    EventType.ACCOUNT_LOCKED: {
        "locked_until": (NOW + timedelta(minutes=30)).isoformat(),
        "failed_attempts": 5,
    },
    EventType.ACCOUNT_UNLOCKED: {"cause": "password_reset"},
    EventType.LOGOUT: {"token_id": "jti-1"},
    EventType.EMAIL_SENT: {
        "template": "verification",
        "recipient": "a@example.com",
        "attempt": 1,
        "smtp_code": 250,
        "cause_event_id": str(uuid4()),
    },
    EventType.EMAIL_FAILED: {
        "template": "reset",
        "recipient": "a@example.com",
        "attempt": 5,
        "smtp_code": 550,
        "cause_event_id": str(uuid4()),
        "error": "mailbox unavailable",
    },
}


def test_the_catalogue_is_exactly_the_contract() -> None:
    assert {t.value for t in EventType} == CONTRACT_TYPES
    assert set(DATA_MODELS) == set(EventType)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_round_trips(event_type: EventType) -> None:
    envelope = EventEnvelope(
        event_type=event_type,
        user_id=uuid4(),
        email="ana@example.com",
        success=not event_type.endswith("failed"),
        reason=None,
        ip="203.0.113.7",
        user_agent="Mobile Safari",
        duration_ms=12.5,
        stream_version=3,
        occurred_at=NOW,
        data=SAMPLE_DATA.get(event_type, {}),
    )

    wire = encode_envelope(envelope)
    decoded = decode_envelope(wire)

    assert decoded == envelope
    body = json.loads(wire)
    assert body["event_type"] == event_type.value
    assert body["schema_version"] == 1
    assert body["occurred_at"] == "2026-12-03T12:00:00Z"
    expected = DATA_MODELS[event_type].model_validate(SAMPLE_DATA.get(event_type, {}))
    assert decoded.data == expected
    assert set(body["data"]) == set(type(expected).model_fields)


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"not json", "Invalid JSON"),
        (None, "empty message value"),
        (b'{"event_type": "user_deleted", "success": true}', "event_type"),
        (b'{"event_type": "logout", "success": true, "data": {}}', "token_id"),
        (
            b'{"event_type": "logout", "success": true, "schema_version": 2,'
            b' "data": {"token_id": "x"}}',
            "unsupported schema_version 2",
        ),
        (b'{"event_type": "email_verified"}', "success"),
        (
            b'{"event_type": "email_verified", "success": true, "password": "x"}',
            "password",
        ),
        (
            b'{"event_type": "email_verified", "success": true,'
            b' "occurred_at": "2026-12-03T12:00:00"}',
            "time zone",
        ),
        (b"[1, 2]", "envelope"),
        (
            b'{"event_type": "email_verified", "success": true,'
            b' "data": {"token": "t"}}',
            "token",
        ),
    ],
)
def test_malformed_envelopes_are_rejected_with_a_clear_error(
    raw: bytes | None,
    complaint: str,
) -> None:
    with pytest.raises(EnvelopeError, match=complaint):
        decode_envelope(raw)


def test_oversized_message_is_rejected_before_parsing() -> None:
    with pytest.raises(EnvelopeError, match="exceeds"):
        decode_envelope(b"{" + b" " * 70_000 + b"}")


def test_partition_key_is_the_user_or_the_hashed_email() -> None:
    user_id = uuid4()
    assert partition_key(user_id, "a@example.com") == str(user_id).encode()
    key = partition_key(None, "a@example.com")
    assert key.startswith(b"email:") and b"a@example.com" not in key
    assert len(key) == len("email:") + 64
