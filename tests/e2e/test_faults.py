"""Processes dying under load: what the system promises across the crash.

One system for the module; each test kills one of its processes in the
middle of a stream of registrations, starts it again, and counts what users
and analysts can see of that stream: mails in the mailbox, rows in the audit
store. Each test counts only its own people, so the tests do not depend on
each other's traffic; the system is whole again after each.
"""

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.devstack.processes import is_alive
from tests.e2e.clients import Clients, Person
from tests.e2e.system import QUIET_TELEMETRY, RunningSystem, running_system
from tests.e2e.topics import events_on
from tests.polling import eventually

pytestmark = pytest.mark.e2e

UNDER_LOAD = QUIET_TELEMETRY | {
    # One test client registers everyone: no per-client budget in the way.
    "IDENTITY_RATE_LIMIT_ENABLED": "false",
    # A mail claimed when the notifier died is sent again after this lease.
    "NOTIFIER_SENDING_LEASE_SECONDS": "5",
    "SMTP_TIMEOUT_SECONDS": "2",
}
STREAM = 40
RECOVERY = 120.0


@pytest.fixture(scope="module")
async def system(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSystem]:
    folder = tmp_path_factory.mktemp("faults")
    async with running_system(
        folder / "data", folder / "stack.log", UNDER_LOAD
    ) as running:
        await running.wait_ready(
            "notifier", "audit"
        )  # consuming: mid-stream is mid-stream
        yield running
        # Those started again included: the stack stops them like the others.
        children = [p.pid for p in running.stack.processes if p.pid is not None]
    assert [pid for pid in children if is_alive(pid)] == []


@pytest.fixture
def clients(http: httpx.AsyncClient, system: RunningSystem) -> Clients:
    return Clients.of(http, system)


async def test_the_notifier_killed_mid_stream_loses_no_mail_and_repeats_none(
    system: RunningSystem, clients: Clients
) -> None:
    """No mail is lost. A second copy is sent only for a mail whose SMTP reply
    the kill cut off before the ledger recorded it (``notifier.ambiguous_resend``,
    the notifier README's one documented exception); never for a mail the
    ledger holds as sent."""
    people = [Person.new(f"notified{i}") for i in range(STREAM)]
    accepted: list[Person] = []
    stream = asyncio.create_task(register_all(clients, people, accepted))

    async def notifier_busy() -> bool:
        mailed = sum((await mails_to(clients, people)).values())
        return mailed >= 1 and len(accepted) >= STREAM // 3

    await eventually(notifier_busy, 60, "a third of the stream registered")
    await system.kill("notifier")
    mailed_before_kill = sum((await mails_to(clients, people)).values())
    assert not stream.done()
    await system.start_again("notifier")
    await stream

    await every_address_mailed(clients, people)
    # Every mail's outcome is recorded, so nothing is still to be (re)sent.
    await audit_rows_of(clients, people, "email_sent", count=STREAM)
    received = await mails_to(clients, people)
    twice = {address for address, count in received.items() if count > 1}
    assert twice <= await resent_after_an_ambiguous_crash(system, clients)
    assert all(received[address] == 2 for address in twice)
    assert len(twice) <= 1  # one mail at most was in flight
    assert mailed_before_kill < STREAM


async def test_the_audit_killed_mid_stream_stores_every_event_once(
    system: RunningSystem, clients: Clients
) -> None:
    people = [Person.new(f"audited{i}") for i in range(STREAM)]
    stream = asyncio.create_task(register_all(clients, people))

    await audit_rows_of(clients, people, "registration_success", count=5)
    await system.kill("audit")
    assert not stream.done()
    await system.start_again("audit")
    await stream
    await every_address_mailed(clients, people)

    produced = [
        envelope["event_id"]
        for topic in ("auth.events", "notification.events")
        for envelope in await events_on(system.bootstrap_servers, topic)
        if envelope["email"] in {p.email for p in people}
    ]

    async def stored_ids() -> list[str]:
        ids = [e["event_id"] for e in await events_of(clients, people)]
        return ids if set(ids) >= set(produced) else []

    stored = await eventually(stored_ids, RECOVERY, "every produced event stored")
    assert sorted(stored) == sorted(set(produced))  # no gap, no row twice
    assert len(produced) >= 2 * STREAM  # a registration and a mail for each


async def test_a_broker_restart_loses_nothing_the_outbox_holds(
    system: RunningSystem, clients: Clients
) -> None:
    before = [Person.new(f"before{i}") for i in range(5)]
    await register_all(clients, before)
    # Nothing in flight: what the broker held is consumed everywhere.
    await audit_rows_of(clients, before, "email_sent", count=len(before))

    await system.stop("broker")
    during = [Person.new(f"during{i}") for i in range(10)]
    await register_all(clients, during)  # identity answers from its database
    await system.start_again("broker")  # same port, no topics, no offsets
    after = [Person.new(f"after{i}") for i in range(5)]
    await register_all(clients, after)

    everyone = before + during + after
    await every_address_mailed(clients, everyone)
    registered = await audit_rows_of(
        clients, everyone, "registration_success", count=len(everyone)
    )
    # The notifier's outcomes travel on a topic the restart emptied too.
    mailed = await audit_rows_of(clients, everyone, "email_sent", count=len(everyone))
    assert sorted(e["email"] for e in registered) == sorted(p.email for p in everyone)
    assert sorted(e["email"] for e in mailed) == sorted(p.email for p in everyone)
    assert await mails_to(clients, everyone) == {p.email: 1 for p in everyone}


async def register_all(
    clients: Clients, people: list[Person], accepted: list[Person] | None = None
) -> None:
    """One registration after another, as a steady stream of sign-ups."""
    for person in people:
        response = await clients.identity.register(person)
        assert response.status_code == 202, response.text
        if accepted is not None:
            accepted.append(person)


async def mails_to(clients: Clients, people: list[Person]) -> Counter[str]:
    addresses = {p.email for p in people}
    received = await clients.mailbox.per_recipient()
    return Counter({a: n for a, n in received.items() if a in addresses})


async def every_address_mailed(clients: Clients, people: list[Person]) -> None:
    async def all_there() -> bool:
        received = await mails_to(clients, people)
        return all(received[p.email] >= 1 for p in people)

    await eventually(all_there, RECOVERY, f"a mail to each of {len(people)}")


async def events_of(clients: Clients, people: list[Person]) -> list[dict[str, Any]]:
    addresses = {p.email for p in people}
    return [e for e in await clients.audit.events() if e["email"] in addresses]


async def audit_rows_of(
    clients: Clients, people: list[Person], event_type: str, count: int
) -> list[dict[str, Any]]:
    """The audit's rows of ``event_type`` about ``people``, once there are ``count``."""

    async def enough() -> list[dict[str, Any]]:
        rows = [
            e for e in await events_of(clients, people) if e["event_type"] == event_type
        ]
        return rows if len(rows) >= count else []

    return await eventually(enough, RECOVERY, f"{count} {event_type} rows")


async def resent_after_an_ambiguous_crash(
    system: RunningSystem, clients: Clients
) -> set[str]:
    """Addresses whose mail the restarted notifier sent again, per its log."""
    found = re.findall(
        r"notifier\.ambiguous_resend event_id=([0-9a-f-]{36})",
        system.output_of("notifier"),
    )
    registrations = await clients.audit.events(event_type="registration_success")
    return {str(e["email"]) for e in registrations if e["event_id"] in found}
