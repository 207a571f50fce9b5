"""Firing and resolved alerts reach the alerts topic and the webhook as JSON;
a webhook that fails never stops the evaluation."""

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from audit.adapters.alert_sinks import KafkaAlertSink, WebhookAlertSink
from audit.alerting import AlertEvaluator, AlertSink
from shared.messaging import ensure_topics, header_value
from shared.settings import KafkaSettings
from tests.audit.conftest import audit_settings, migrated_store, read_topic
from tests.audit.stream import NOW, Account, minutes


class Webhook:
    """A real HTTP endpoint that records what is POSTed to it."""

    def __init__(self, status: int = 204) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alerts"

    def __enter__(self) -> "Webhook":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


async def lockout_storm(
    sinks: list[AlertSink], sqlite_url: str, *instants: float
) -> None:
    """Six lockouts at 12:00, evaluated at the given minutes after it."""
    async with migrated_store(sqlite_url) as store:
        people = [Account(f"k{i}@example.com") for i in range(6)]
        await store.project(p.locked(NOW) for p in people)
        evaluator = AlertEvaluator(
            store.engine, audit_settings(sqlite_url).alert_policy(), sinks
        )
        try:
            for minute in instants:
                await evaluator.evaluate(NOW + minutes(minute))
        finally:
            await evaluator.close()


async def test_alerts_are_published_on_the_topic_and_posted_to_the_webhook(
    kafka_settings: KafkaSettings, sqlite_url: str, webhook: Webhook
) -> None:
    await ensure_topics(kafka_settings, [kafka_settings.alerts_topic])
    sinks: list[AlertSink] = [
        KafkaAlertSink(kafka_settings),
        WebhookAlertSink(webhook.url, timeout_s=2),
    ]

    await lockout_storm(sinks, sqlite_url, 0, 1, 16, 19)

    firing, resolved = webhook.received
    assert (firing["rule"], firing["state"]) == ("lockout_spike", "firing")
    assert (resolved["rule"], resolved["state"]) == ("lockout_spike", "resolved")
    assert firing["alert_id"] == resolved["alert_id"]
    assert firing["fired_at"] == (NOW + minutes(1)).isoformat()
    assert resolved["resolved_at"] == (NOW + minutes(19)).isoformat()
    assert (firing["value"], firing["threshold"]) == (6, 5)
    assert "6 account lockouts" in firing["summary"]

    records = await read_topic(
        kafka_settings, kafka_settings.alerts_topic, lambda r: len(r) >= 2
    )
    assert [json.loads(r.value) for r in records] == [firing, resolved]
    assert [header_value(r.headers, "event_type") for r in records] == [
        "alert_firing",
        "alert_resolved",
    ]
    assert {r.key for r in records} == {b"lockout_spike:"}


@pytest.mark.parametrize("failure", ["answers 500", "is not listening"])
async def test_a_failing_webhook_never_stops_the_evaluation(
    kafka_settings: KafkaSettings,
    sqlite_url: str,
    failure: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await ensure_topics(kafka_settings, [kafka_settings.alerts_topic])
    with Webhook(status=500) as broken:
        url = broken.url
        if failure == "is not listening":
            broken.server.shutdown()
            broken.server.server_close()
        sinks: list[AlertSink] = [
            WebhookAlertSink(url, timeout_s=2),
            KafkaAlertSink(kafka_settings),
        ]
        with caplog.at_level(logging.WARNING, logger="audit.alerting"):
            await lockout_storm(sinks, sqlite_url, 0, 1, 16, 19)

    records = await read_topic(
        kafka_settings, kafka_settings.alerts_topic, lambda r: len(r) >= 2
    )
    assert [json.loads(r.value)["state"] for r in records] == ["firing", "resolved"]
    failures = [
        r for r in caplog.records if r.getMessage() == "audit.alert_delivery_failed"
    ]
    assert [r.__dict__["sink"] for r in failures] == ["webhook", "webhook"]
