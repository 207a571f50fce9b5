"""The whole system on real input: one person's journey through every
process, the trace it leaves, and ``devstack demo`` driving it.

Every service runs as its own process, as `make run` starts them: the
embedded broker, the dev mailbox, identity, notifier and audit on free ports.
The tests of this module share one system on SQLite: they kill nothing.
"""

import io
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from devstack.broker import free_port
from devstack.demo import DemoOptions, render_report, run_demo
from tests.e2e.clients import Clients, Person
from tests.e2e.journey import then_the_audit_tells_the_journey, walk_the_journey
from tests.e2e.otlp_http import OtlpHttpReceiver
from tests.e2e.system import RunningSystem
from tests.polling import eventually

pytestmark = pytest.mark.e2e

DEVSTACK = str(Path(sys.executable).parent / "devstack")


async def test_register_verify_log_in_lock_reset_and_log_in_again(
    clients: Clients,
) -> None:
    person = Person.new("ada", ip="203.0.113.21")

    user_id = await walk_the_journey(clients, person)

    await then_the_audit_tells_the_journey(clients, person, user_id)


async def test_a_registration_is_one_trace_across_the_processes(
    clients: Clients, otlp: OtlpHttpReceiver
) -> None:
    person = Person.new("grace", ip="203.0.113.23")
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)

    registered = await clients.identity.register(
        person, headers={"traceparent": f"00-{trace_id}-{caller_span}-01"}
    )
    assert registered.status_code == 202

    [registration] = await clients.audit.wait_for_events(
        1, email=person.email, event_type="registration_success"
    )
    [mail_sent] = await clients.audit.wait_for_events(
        1, email=person.email, event_type="email_sent"
    )
    assert registration["trace_id"] == trace_id
    assert mail_sent["trace_id"] == trace_id
    assert mail_sent["data"]["cause_event_id"] == registration["event_id"]

    async def every_process_took_part() -> set[str]:
        services = {s.service for s in otlp.spans() if s.trace_id == trace_id}
        return services if {"identity", "notifier", "audit"} <= services else set()

    await eventually(every_process_took_part, 30, "spans of all three services")
    spans = [s for s in otlp.spans() if s.trace_id == trace_id]
    server = [s for s in spans if s.service == "identity" and s.kind == 2]  # SERVER
    assert server and server[0].parent_span_id == caller_span
    assert {"smtp send", "auth.events process"} <= {
        s.name for s in spans if s.service == "notifier"
    }


async def test_the_demo_plays_users_and_an_attacker_and_reports_what_the_audit_saw(
    system: RunningSystem, http: httpx.AsyncClient, clients: Clients
) -> None:
    # Given another client on this machine has just spent its rate-limit budget
    await spend_the_budget_of_this_address(http, system.identity_url)
    console = Console(file=io.StringIO(), width=120)
    options = DemoOptions(
        identity_url=system.identity_url,
        audit_url=system.audit_url,
        mailbox_url=system.mailbox_url,
        users=3,
        rate=20,
        duration=2,
        seed=7,
        stuffing_attempts=10,
    )

    report = await run_demo(options, console)
    render_report(report, console)

    tally = report.tally
    assert (tally.registered, tally.verified, tally.locked, tally.resets) == (
        3,
        3,
        1,
        1,
    )
    assert report.first_login_after is not None
    assert tally.stuffing_attempts == 10
    assert tally.rate_limited >= 1  # answered 429, waited as Retry-After said
    assert tally.waited_for_rate_limit >= 1
    assert report.client_ip == "127.0.0.1"
    assert report.login_trace_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", report.login_trace_id)
    assert report.trace_url == f"http://127.0.0.1:16686/trace/{report.login_trace_id}"
    assert report.summary["lockouts_24h"] >= 1
    assert report.summary["password_resets_24h"] >= 1
    assert report.summary["login_attempts"] >= tally.logins + tally.failed_logins
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "first successful login" in printed
    assert report.trace_url in printed
    assert "login success rate" in printed

    async def stuffing_seen() -> list[dict[str, object]]:
        alerts = await clients.audit.get("/v1/alerts", state="all")
        return [a for a in alerts if a["rule"] == "credential_stuffing"]

    [alert] = await eventually(stuffing_seen, 30, "a credential stuffing alert")
    assert alert["subject"] == "127.0.0.1"


def test_the_demo_names_what_is_not_up_and_exits_non_zero() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"

    finished = subprocess.run(
        [DEVSTACK, "demo", "--identity-url", nowhere, "--audit-url", nowhere],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 1
    assert "the stack is not up" in finished.stderr
    assert f"identity at {nowhere}/healthz" in finished.stderr
    assert "make run" in finished.stderr


async def spend_the_budget_of_this_address(http: httpx.AsyncClient, url: str) -> None:
    for _ in range(100):
        answer = await http.post(f"{url}/v1/users/verification", json={"token": "x"})
        if answer.status_code == 429:
            return
    raise AssertionError("identity never limited this address")
