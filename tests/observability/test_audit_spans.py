"""Every event the audit stores has an ``audit.project`` span in its own trace.

A batch is one transaction (``audit.store``, the SQL beneath it) in a trace of
its own; each of its events gets a span in the event's trace, linked to it, so
a request's trace reaches the audit store however the event was consumed.
"""

from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from audit.projection import Projection
from shared.events import EventType
from shared.instrumentation import instrument_engine
from shared.messaging import context_from_headers
from tests.audit.conftest import migrated_store
from tests.audit.stream import NOW, event, record_of, traceparent
from tests.telemetry_capture import TelemetryCapture

tracer = trace.get_tracer(__name__)


def failed_login(index: int, parent: str) -> ConsumerRecord:
    envelope = event(
        EventType.LOGIN_FAILED, NOW, success=False, email=f"u{index}@example.com"
    )
    return record_of(envelope, parent, offset=index)


def ids(parent: str) -> tuple[int, int]:
    _, trace_id, span_id, _ = parent.split("-")
    return int(trace_id, 16), int(span_id, 16)


def in_trace(telemetry: TelemetryCapture, trace_id: int) -> list[ReadableSpan]:
    return [s for s in telemetry.finished_spans() if s.context.trace_id == trace_id]


async def test_each_event_of_a_batch_gets_a_span_in_its_own_trace(
    database_url: str, telemetry: TelemetryCapture
) -> None:
    parents = [traceparent() for _ in range(3)]
    records = [failed_login(i, parent) for i, parent in enumerate(parents)]
    async with migrated_store(database_url) as store:
        instrument_engine(store.engine)
        with tracer.start_as_current_span("auth.events process") as batch:
            await Projection(store.engine).handle(records)

    batch_spans = in_trace(telemetry, batch.get_span_context().trace_id)
    (transaction,) = [s for s in batch_spans if s.name == "audit.store"]
    statements = [s for s in batch_spans if s.parent == transaction.context]
    assert any(
        s.attributes and s.attributes.get("db.operation.name") == "INSERT"
        for s in statements
    )
    for parent in parents:
        trace_id, span_id = ids(parent)
        (projected,) = [
            s for s in in_trace(telemetry, trace_id) if s.name == "audit.project"
        ]
        assert projected.parent is not None and projected.parent.span_id == span_id
        assert [link.context for link in projected.links] == [transaction.context]
        assert projected.start_time and transaction.start_time
        assert projected.start_time <= (transaction.end_time or 0)


async def test_an_event_consumed_alone_is_projected_under_its_process_span(
    database_url: str, telemetry: TelemetryCapture
) -> None:
    parent = traceparent()
    record = failed_login(0, parent)
    async with migrated_store(database_url) as store:
        with tracer.start_as_current_span(
            "auth.events process", context=context_from_headers(record.headers)
        ) as process:
            await Projection(store.engine).handle([record])

    spans = in_trace(telemetry, ids(parent)[0])
    (projected,) = [s for s in spans if s.name == "audit.project"]
    (transaction,) = [s for s in spans if s.name == "audit.store"]
    assert projected.parent == process.get_span_context()
    assert transaction.parent == process.get_span_context()
