"""Hypothesis strategies for what a consumer may find on a topic.

Arbitrary bytes, and valid envelopes of every kind of event with one thing
wrong: a field dropped, a value of another type or shape, a key too many, a
NUL inside a text, the JSON cut short or a byte flipped.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from shared.events import EventEnvelope, EventType, encode_envelope
from shared.sealing import TokenSealer

USER = UUID("6a1f3c52-0d7e-4e55-9a4c-2b1b2d3f4a5b")
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
FIELDS = [
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "user_id",
    "email",
    "success",
    "reason",
    "ip",
    "user_agent",
    "duration_ms",
    "stream_version",
    "data",
]


def valid_envelopes(sealer: TokenSealer) -> list[EventEnvelope]:
    """One envelope per kind the consumers treat differently."""
    sealed = {
        "sealed_token": sealer.seal("raw-token-value"),
        "token_expires_at": (NOW + timedelta(hours=1)).isoformat(),
    }

    def event(kind: EventType, success: bool = True, **fields: Any) -> EventEnvelope:
        values = {
            "event_type": kind,
            "occurred_at": NOW,
            "user_id": USER,
            "email": "ada@example.com",
            "success": success,
            "ip": "203.0.113.7",
            "user_agent": "fuzz/1.0",
            **fields,
        }
        return EventEnvelope.model_validate(values)

    return [
        event(EventType.REGISTRATION_SUCCESS, data=sealed),
        event(EventType.PASSWORD_RESET_REQUESTED, data=sealed),
        event(EventType.LOGIN_FAILED, False, reason="invalid_password"),
        event(
            EventType.ACCOUNT_LOCKED,
            False,
            data={
                "locked_until": (NOW + timedelta(minutes=30)).isoformat(),
                "failed_attempts": 5,
            },
        ),
        event(EventType.PASSWORD_CHANGED),
        event(EventType.LOGIN_SUCCESS, data={"token_id": "j1", "rehashed": False}),
    ]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, envelopes: list[EventEnvelope]) -> bytes:
    original = draw(st.sampled_from(envelopes))
    document: dict[str, Any] = json.loads(encode_envelope(original))
    how = draw(
        st.sampled_from(["drop", "replace", "add", "data", "nul", "cut", "flip"])
    )
    if how == "drop":
        document.pop(draw(st.sampled_from(FIELDS)))
    elif how == "replace":
        document[draw(st.sampled_from(FIELDS))] = draw(json_values)
    elif how == "add":
        document[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    elif how == "nul":  # valid JSON, but no PostgreSQL text can hold it
        name = draw(st.sampled_from(["email", "reason", "ip", "user_agent"]))
        document[name] = f"{document[name] or ''}\x00{draw(st.text(max_size=8))}"
    elif how == "data":
        data = document["data"] if isinstance(document["data"], dict) else {}
        key = draw(st.sampled_from([*data, "sealed_token", "locked_until", "x"]))
        document["data"] = {**data, key: draw(json_values)}
    raw = json.dumps(document).encode()
    if how == "cut":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


def hostile_values(envelopes: list[EventEnvelope]) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=600) | mutated(envelopes)
