"""Where firing and resolved alerts go besides the store: Kafka and a webhook."""

import json
import logging
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.messaging import create_producer, trace_headers
from shared.messaging.headers import current_trace_carrier
from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)


class KafkaAlertSink:
    """Publishes each alert change as JSON on the alerts topic.

    The producer starts on first use and is replaced after a failed start, so
    an absent broker costs one failed publish, never the evaluator.
    """

    name = "kafka"

    def __init__(self, settings: KafkaSettings, timeout_s: float = 10.0) -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None

    async def send(self, document: dict[str, Any]) -> None:
        producer = await self._started()
        headers = [
            ("content-type", b"application/json"),
            ("event_type", f"alert_{document['state']}".encode()),
            ("alert_id", str(document["alert_id"]).encode()),
            *trace_headers(current_trace_carrier()),
        ]
        key = f"{document['rule']}:{document.get('subject') or ''}".encode()
        await producer.send_and_wait(
            self._settings.alerts_topic,
            json.dumps(document).encode(),
            key=key,
            headers=headers,
        )

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = create_producer(self._settings, "audit-alerts")
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer


class WebhookAlertSink:
    """POSTs each alert change as JSON to the configured URL."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._client = httpx.AsyncClient(
            timeout=timeout_s, headers={"user-agent": "authtrail-audit"}
        )

    async def send(self, document: dict[str, Any]) -> None:
        response = await self._client.post(self._url, json=document)
        response.raise_for_status()

    async def close(self) -> None:
        await self._client.aclose()
