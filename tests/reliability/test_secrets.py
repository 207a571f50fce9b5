"""A whole account's life, then a search for its secrets everywhere but identity.

Identity (with its relay), the notifier (with a real SMTP server) and audit
(with its consumer group) run in process on one broker. After the journey,
every log record (message and extra fields), every span and metric point
recorded in process, every audit row, every notifier ledger row and every raw
Kafka message (keys, values, headers, dead letters included) is searched for
the passwords, the raw tokens from the mails, their SHA-256 hashes, the JWTs
and their parts, and any argon2 hash. Nothing may be found; the address of
the account must be (the search does see the data). Spans and metric points
are those of the whole run up to this test (one in-memory provider per
process), so every earlier test's telemetry is searched too: that is how a
password hash in the exception of a lost race was found.

tests/observability/test_journey_secrets.py searches what three real
processes export over OTLP (spans, metrics, logs) for the same.
"""

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.tables import accounts, alerts, events, minute_counts
from identity.cli import MIGRATIONS
from notifier.ledger import deliveries
from shared import database
from shared.events import EventType
from shared.messaging import ensure_topics
from shared.sealing import sealer_from_settings
from shared.settings import KafkaSettings
from tests.audit.conftest import migrated_store, running_audit
from tests.identity.conftest import Identity, running, settings_for, with_broker
from tests.identity.kafka_reading import eventually, read_topic
from tests.notifier.conftest import RunningNotifier, running_notifier
from tests.telemetry_capture import TelemetryCapture

EMAIL = "trail.walker@example.com"
PASSWORD = "lantern quartz harbour"
WRONG = "lantern quartz harb0ur"
NEW_PASSWORD = "meadow cobalt amber"
NEWEST_PASSWORD = "violet glacier ember"
WEAK = "password"

FAST_RELAY = {"relay_enabled": True, "relay_poll_seconds": 0.2}


class EveryRecord(logging.Handler):
    """Every log record of the run at INFO and above, with its extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in record.__dict__.items() if k != "msg"}
        self.lines.append(f"{record.getMessage()} {fields!r}")


@contextmanager
def every_log_record() -> Iterator[EveryRecord]:
    handler = EveryRecord()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # the services' level (LOG_LEVEL)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class Secrets:
    def __init__(self) -> None:
        self.values: list[str] = []

    def remember(self, *values: str) -> None:
        for value in values:
            self.values.append(value)
            if value.count(".") == 2:  # a JWT: its claims and signature alone
                self.values.extend(value.split(".")[1:])
            else:
                self.values.append(hashlib.sha256(value.encode()).hexdigest())

    def found_in(self, text: str) -> list[str]:
        return [s for s in self.values if s in text] + (
            ["$argon2"] if "$argon2" in text else []
        )


async def journey(identity: Identity, notifier: RunningNotifier) -> Secrets:
    secrets = Secrets()
    secrets.remember(PASSWORD, WRONG, NEW_PASSWORD, NEWEST_PASSWORD)
    http = identity.http

    assert (await identity.register(EMAIL, PASSWORD)).status_code == 202
    (mail,) = await notifier.mails_to(EMAIL)
    verification = mail.token_of("/verify")
    secrets.remember(verification)
    assert (
        await http.post("/v1/users/verification", json={"token": verification})
    ).status_code == 200
    assert (await identity.log_in(EMAIL, WRONG)).status_code == 401
    token = await identity.access_token(EMAIL, PASSWORD)
    secrets.remember(token)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/v1/users/me", headers=bearer)).status_code == 200
    assert (await http.post("/v1/auth/logout", headers=bearer)).status_code == 204

    assert (
        await http.post("/v1/password/forgot", json={"email": EMAIL})
    ).status_code == 202
    reset_mail = (await notifier.mails_to(EMAIL, 2))[-1]
    reset = reset_mail.token_of("/reset-password")
    secrets.remember(reset)
    answer = await http.post(
        "/v1/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert answer.status_code == 200
    token = await identity.access_token(EMAIL, NEW_PASSWORD)
    secrets.remember(token)
    changed = await http.post(
        "/v1/password/change",
        json={"current_password": NEW_PASSWORD, "new_password": NEWEST_PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    secrets.remember(await identity.access_token(EMAIL, NEWEST_PASSWORD))

    # Refused input must not leak either: a weak password, a reused token.
    weak = f"weak.{EMAIL}"
    assert (await identity.register(weak, WEAK)).status_code == 422
    secrets.remember(f"{WEAK}-never-stored")  # the weak one is public anyway
    reused = {"token": reset, "new_password": "another cobalt meadow"}
    assert (await http.post("/v1/password/reset", json=reused)).status_code == 400
    return secrets


async def _rows(engine: AsyncEngine, *tables: Any) -> str:
    lines: list[str] = []
    async with engine.connect() as conn:
        for table in tables:
            lines.extend(repr(tuple(row)) for row in await conn.execute(select(table)))
    return "\n".join(lines)


async def _topics(kafka: KafkaSettings) -> str:
    names = [kafka.auth_events_topic, kafka.notification_events_topic]
    names += [kafka.dead_letter_topic(t) for t in names]
    await ensure_topics(kafka, names)
    lines = []
    for name in names:
        for record in await read_topic(kafka, name):
            lines.append(repr((record.key, record.value, record.headers)))
            if record.value:
                lines.append(record.value.decode("utf-8", "replace"))
    return "\n".join(lines)


def _telemetry(telemetry: TelemetryCapture) -> str:
    spans = [
        json.dumps(
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "events": [(e.name, dict(e.attributes or {})) for e in span.events],
            },
            default=str,
        )
        for span in telemetry.finished_spans()
    ]
    data = telemetry.metric_reader.get_metrics_data()
    return "\n".join(spans) + "\n" + (data.to_json() if data else "")


@pytest.fixture
async def pipeline(
    kafka_settings: KafkaSettings, sqlite_url: str, postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Identity, RunningNotifier, Any]]:
    settings = with_broker(
        settings_for(sqlite_url, tmp_path / "data"), kafka_settings, **FAST_RELAY
    )
    await database.upgrade(MIGRATIONS, sqlite_url)
    sealer = sealer_from_settings(settings)
    notifier_db = f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}"
    async with (
        running(settings) as identity,
        running_notifier(kafka_settings, notifier_db, sealer) as notifier,
        running_audit(
            kafka_settings, postgres_url, AUDIT_ALERT_EVALUATION_INTERVAL_S=3600
        ) as audit,
    ):
        yield identity, notifier, audit


async def test_no_secret_of_a_journey_is_anywhere_outside_identity(
    pipeline: tuple[Identity, RunningNotifier, Any],
    kafka_settings: KafkaSettings,
    postgres_url: str,
    telemetry: TelemetryCapture,
) -> None:
    identity, notifier, audit = pipeline
    with every_log_record() as logs:
        secrets = await journey(identity, notifier)
        recorded = await identity.envelopes()
        await audit.stored(*recorded, timeout=60)
        await notifier.mails_to(EMAIL, 4)  # password changed twice: two notices

        async def outcomes_published() -> bool:
            sent = [e for e in await _audited(audit) if e == "email_sent"]
            return len(sent) >= 4

        await eventually(outcomes_published, 30, "every email_sent audited")

    async with migrated_store(postgres_url) as store:
        audit_rows = await _rows(store.engine, events, accounts, minute_counts, alerts)
    ledger = database.create_engine(notifier.settings.database_url)
    try:
        ledger_rows = await _rows(ledger, deliveries)
    finally:
        await ledger.dispose()
    places = {
        "log records": "\n".join(logs.lines),
        "spans and metrics": _telemetry(telemetry),
        "audit rows": audit_rows,
        "notifier ledger rows": ledger_rows,
        "Kafka messages": await _topics(kafka_settings),
    }

    assert len(secrets.values) >= 16
    assert {name: secrets.found_in(text) for name, text in places.items()} == {
        name: [] for name in places
    }
    for name in ("audit rows", "Kafka messages", "log records"):
        assert EMAIL in places[name], name  # the search sees the data
    kinds = {e.event_type for e in recorded}
    assert {EventType.PASSWORD_RESET_SUCCESS, EventType.PASSWORD_CHANGED} <= kinds


async def _audited(audit: Any) -> list[str]:
    page = (await audit.client.get("/v1/events", params={"limit": 1000})).json()
    return [item["event_type"] for item in page["items"]]
