"""The mail is part of the trace of the request that caused it, and no token
or link shows up in spans or logs."""

import logging

import pytest
from opentelemetry.trace import SpanKind

from shared.events import EventType
from shared.messaging import header_value
from tests.notifier.auth_stream import traceparent
from tests.notifier.conftest import RunningNotifier, eventually
from tests.notifier.topic_reader import TopicReader
from tests.telemetry_capture import TelemetryCapture

TOKEN = "tok-secret-7f3a9c"


async def test_render_and_smtp_spans_continue_the_trace_from_the_headers(
    telemetry: TelemetryCapture,
    sqlite_notifier: RunningNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    notifier = sqlite_notifier
    email = "traced@example.org"
    event = notifier.events.registered(email, TOKEN)
    header, trace_id = traceparent()
    parent_span_id = header.split("-")[2]

    await notifier.publish(event, trace=header)

    [mail] = await notifier.mails_to(email)
    assert mail.token_of("/verify") == TOKEN

    def in_trace() -> list[str]:
        return [
            s.name
            for s in telemetry.finished_spans()
            if s.context is not None and format(s.context.trace_id, "032x") == trace_id
        ]

    await eventually(
        lambda: (
            {"notifier.render", "smtp send"} <= set(in_trace())
            and any(n.endswith(" process") for n in in_trace())
        ),
        what="render, send and process spans in the caller's trace",
    )
    spans = {
        s.name: s
        for s in telemetry.finished_spans()
        if s.context is not None and format(s.context.trace_id, "032x") == trace_id
    }
    process = spans[f"{notifier.settings.auth_events_topic} process"]
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None
    assert format(process.parent.span_id, "016x") == parent_span_id
    for name in ("notifier.render", "smtp send"):
        span = spans[name]
        assert span.parent is not None
        assert span.parent.span_id == process.context.span_id
    assert spans["smtp send"].kind is SpanKind.CLIENT
    assert spans["smtp send"].attributes is not None
    assert spans["smtp send"].attributes["smtp.response.status_code"] == 250
    for span in spans.values():
        assert TOKEN not in repr(dict(span.attributes or {}))
        assert all(TOKEN not in repr(e.attributes) for e in span.events)

    async with TopicReader(
        notifier.settings, notifier.settings.notification_events_topic
    ) as reader:
        [outcome] = await reader.wait_for(lambda r: len(r) >= 1)
    assert header_value(outcome.headers, "event_type") == EventType.EMAIL_SENT
    assert trace_id in (header_value(outcome.headers, "traceparent") or "")
    assert TOKEN.encode() not in outcome.value

    assert telemetry.metric_points("notifier.email_send.duration")

    sent = [r for r in caplog.records if r.getMessage() == "notifier.email_sent"]
    assert len(sent) == 1
    assert sent[0].__dict__["event_id"] == str(event.event_id)
    assert sent[0].__dict__["template"] == "verify_email"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)
