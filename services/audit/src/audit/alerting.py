"""Use case: evaluate the alert rules, store the outcome, announce changes."""

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from opentelemetry import metrics, trace
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.alert_store import open_alerts, save_step
from audit.adapters.metric_queries import measure
from audit.domain.alerts import (
    SEVERITY,
    AlertPolicy,
    Step,
    alert_document,
    observe,
    step,
)

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
_meter = metrics.get_meter("audit.alerting")
_alerts = _meter.create_counter(
    "audit.alerts",
    unit="{alert}",
    description="Alert transitions (firing, resolved) raised by the audit rules",
)

Clock = Callable[[], datetime]

_LOG_EVENTS = {"firing": "audit.alert_firing", "resolved": "audit.alert_resolved"}
SINK_TIMEOUT_S = 15.0


class AlertSink(Protocol):
    """Somewhere an alert change is announced (alerts topic, webhook)."""

    name: str

    async def send(self, document: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class AlertEvaluator:
    """Runs every rule at a given instant; ``run`` does so every few seconds."""

    def __init__(
        self, engine: AsyncEngine, policy: AlertPolicy, sinks: Sequence[AlertSink]
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._sinks = list(sinks)
        # Every rule's series exists from the start: an alert on its rate
        # needs a zero before the first transition.
        for rule, severity in SEVERITY.items():
            for state in _LOG_EVENTS:
                _alerts.add(
                    0, {"rule": rule.value, "severity": severity.value, "state": state}
                )

    async def evaluate(self, now: datetime) -> Step:
        """Evaluate the rules as of ``now``; announce what fired or resolved."""
        with tracer.start_as_current_span("audit.alerts.evaluate"):
            async with self._engine.begin() as conn:
                measured = await measure(conn, now, self._policy.thresholds)
                result = step(
                    await open_alerts(conn),
                    observe(measured, self._policy),
                    self._policy,
                    now,
                    uuid.uuid4,
                )
                await save_step(conn, result)
            for alert in result.notifications:
                await self._announce(alert_document(alert))
        return result

    async def run(
        self, interval_s: float, clock: Clock, stopping: asyncio.Event
    ) -> None:
        """Evaluate until ``stopping`` is set; a failed round never ends the loop."""
        while not stopping.is_set():
            try:
                await self.evaluate(clock())
            except Exception:
                logger.exception("audit.alert_evaluation_failed")
            try:
                await asyncio.wait_for(stopping.wait(), timeout=interval_s)
            except TimeoutError:
                continue

    async def close(self) -> None:
        for sink in self._sinks:
            await sink.close()

    async def _announce(self, document: dict[str, Any]) -> None:
        state, rule = document["state"], document["rule"]
        logger.warning(
            _LOG_EVENTS[state],
            extra={
                "alert_id": document["alert_id"],
                "rule": rule,
                "subject": document["subject"],
                "severity": document["severity"],
                "value": document["value"],
                "threshold": document["threshold"],
                "summary": document["summary"],
            },
        )
        _alerts.add(1, {"rule": rule, "severity": document["severity"], "state": state})
        for sink in self._sinks:
            try:
                await asyncio.wait_for(sink.send(document), SINK_TIMEOUT_S)
            except Exception as exc:
                logger.warning(
                    "audit.alert_delivery_failed",
                    extra={
                        "sink": sink.name,
                        "alert_id": document["alert_id"],
                        "error": f"{type(exc).__name__}: {exc}"[:300],
                    },
                )
