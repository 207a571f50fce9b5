"""Every auth event is one structured log record, correlated with its trace."""

from typing import Any

from tests.observability.conftest import Observed

FIELDS = {"event_type", "event_id", "user_id", "email", "ip", "user_agent", "reason"}


def identity_records(observed: Observed) -> list[dict[str, Any]]:
    return [r for s, r in observed.receiver.log_records() if s == "identity"]


def test_each_auth_event_is_one_log_record_with_its_fields_and_trace(
    observed: Observed,
) -> None:
    journey = observed.journey
    auth = [
        r
        for r in identity_records(observed)
        if r["attributes"].get("email") == journey.email
    ]
    by_event = {r["attributes"]["event_id"] for r in auth}
    types = [r["attributes"]["event_type"] for r in auth]

    assert len(by_event) == len(auth)
    assert {
        "registration_success",
        "email_verified",
        "login_failed",
        "login_success",
        "logout",
        "password_reset_requested",
        "password_reset_success",
    } <= set(types)
    for record in auth:
        attributes = record["attributes"]
        assert set(attributes) >= FIELDS, attributes
        assert record["body"] == f"auth.{attributes['event_type']}"
        assert record["severity"] == ("WARN" if attributes["reason"] else "INFO")
        assert len(record["trace_id"]) == 32 and set(record["trace_id"]) != {"0"}
        assert len(record["span_id"]) == 16
        assert not any(key.startswith("otel") for key in attributes)
    (failed,) = [r for r in auth if r["attributes"]["event_type"] == "login_failed"]
    assert failed["attributes"]["reason"] == "invalid_password"
    assert failed["attributes"]["user_id"] == journey.user_id
    assert failed["attributes"]["user_agent"].startswith("Mozilla/5.0")
    assert failed["attributes"]["ip"] == "127.0.0.1"


def test_a_successful_login_writes_at_most_three_log_records(
    observed: Observed,
) -> None:
    start, end = observed.journey.steps["login"]
    during_login = [
        r for r in identity_records(observed) if start <= r["time_unix_nano"] < end
    ]

    assert 1 <= len(during_login) <= 3, [r["body"] for r in during_login]


def test_health_probes_write_no_log_lines(observed: Observed) -> None:
    everything = [r for _, r in observed.receiver.log_records()]
    mentions = [r for r in everything if "healthz" in str(r) or "readyz" in str(r)]

    assert everything and mentions == []
