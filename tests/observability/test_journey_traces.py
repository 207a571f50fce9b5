"""One registration is one trace: identity, notifier and audit, parent by parent."""

from tests.observability.conftest import Observed
from tests.otlp_receiver import ReceivedSpan

SERVER = 2  # opentelemetry.proto.trace.v1.Span.SPAN_KIND_SERVER


def ancestry(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """``span`` and its parents up to the root; stops where a parent is missing."""
    chain = [span]
    while chain[-1].parent_span_id and chain[-1].parent_span_id in by_id:
        chain.append(by_id[chain[-1].parent_span_id])
    return chain


def registration_trace(observed: Observed) -> list[ReceivedSpan]:
    spans = observed.receiver.spans()
    (request,) = [
        s
        for s in spans
        if s.service == "identity" and s.kind == SERVER and s.name == "POST /v1/users"
    ]
    return [s for s in spans if s.trace_id == request.trace_id]


def test_one_registration_is_one_trace_through_the_three_services(
    observed: Observed,
) -> None:
    trace = registration_trace(observed)
    by_id = {s.span_id: s for s in trace}
    (request,) = [s for s in trace if s.kind == SERVER and s.name == "POST /v1/users"]
    (send,) = [s for s in trace if s.name == "smtp send"]
    audit_inserts = [s for s in trace if s.name == "audit.project"]

    assert {s.service for s in trace} == {"identity", "notifier", "audit"}
    assert request.parent_span_id == ""
    to_mail = ancestry(send, by_id)
    assert to_mail[-1] == request
    assert [s.service for s in to_mail].count("notifier") >= 2
    assert audit_inserts
    for insert in audit_inserts:
        to_audit = ancestry(insert, by_id)
        assert to_audit[-1] == request, [s.name for s in to_audit]


def test_each_step_of_the_flow_has_its_span(observed: Observed) -> None:
    names = {(s.service, s.name) for s in registration_trace(observed)}

    assert {
        ("identity", "POST /v1/users"),
        ("identity", "auth.register"),
        ("identity", "auth.password_hash"),
        ("identity", "auth.event_store.append"),
        ("identity", "INSERT outbox"),
        ("identity", "auth.events publish"),
        ("notifier", "auth.events process"),
        ("notifier", "notifier.render"),
        ("notifier", "smtp send"),
        ("audit", "audit.store"),
        ("audit", "audit.project"),
    } <= names


def test_a_login_trace_shows_hashing_and_token_issuing(observed: Observed) -> None:
    spans = observed.receiver.spans()
    logins = [
        s
        for s in spans
        if s.name == "auth.login" and s.attributes.get("auth.outcome") == "succeeded"
    ]
    assert logins
    trace = {s.name for s in spans if s.trace_id == logins[0].trace_id}

    assert {
        "auth.password_hash",
        "auth.token_issue",
        "auth.event_store.append",
    } <= trace


def test_health_probes_leave_no_spans(observed: Observed) -> None:
    spans = observed.receiver.spans()
    probes = [
        s
        for s in spans
        if "healthz" in s.name
        or "readyz" in s.name
        or "SELECT 1" in str(s.attributes.get("db.statement", ""))
    ]

    assert any("db.statement" in s.attributes for s in spans)  # the search sees SQL
    assert probes == []
