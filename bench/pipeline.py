"""Benchmark 4: the event pipeline at a steady rate of registrations.

The whole stack runs through the devstack Stack library (embedded broker,
dev mailbox, identity, notifier, audit; SQLite files, or databases on the
PostgreSQL server). Registrations arrive at a steady rate (open loop). For
each one: identity's commit (the envelope's ``occurred_at``, set in the
transaction's decision right before the append), the outbox row's
``published_at``, the moment its audit row could first be read (a poller
queries ``audit_events`` every few milliseconds), and the dev mailbox's
``received_at``. Also: the floor (a bare aiokafka round trip on the same
broker) and the outbox relay's throughput draining a backlog.
"""

import asyncio
import dataclasses
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.accounts import PASSWORD
from bench.floor import round_trips
from bench.identity import start_identity
from bench.lab import Lab
from bench.processes import Service
from bench.results import Goal, Section, Table
from bench.stats import median, percentile, rounded
from devstack.stack import Stack, StackOutput, settings_on_free_ports, stack_stages
from devstack.stack.table import ProcessSpec, Stage
from shared.settings import KafkaSettings

RATE = 50.0
# 50 hashes/s is ~80% of this machine's argon2 limit: also a rate it sustains.
SUSTAINED_RATE = 20.0
AUDIT_P99_GOAL_MS = 100.0
POLL_S = 0.005
BACKLOG = 3000
# aiokafka's default fetch wait (the services keep it), and a short one.
# The services' wait (KAFKA_FETCH_MAX_WAIT_MS) and aiokafka's default.
FLOOR_FETCH_WAITS = (KafkaSettings().kafka_fetch_max_wait_ms, 500)


def _configured(stages: list[Stage]) -> list[Stage]:
    """Telemetry off everywhere; identity without its per-client rate limit."""

    def one(spec: ProcessSpec) -> ProcessSpec:
        env = {k: v for k, v in spec.env.items() if not k.startswith("OTEL_")}
        env["OTEL_SDK_DISABLED"] = "true"
        if spec.name == "identity":
            env["IDENTITY_RATE_LIMIT_ENABLED"] = "false"
        return dataclasses.replace(spec, env=env)

    return [tuple(one(spec) for spec in stage) for stage in stages]


async def pipeline_benchmark(lab: Lab) -> list[Section]:
    section = Section(
        "pipeline",
        "4. The event pipeline at a steady rate",
        "python -m bench --only pipeline",
    )
    kinds = ["sqlite"] if lab.options.quick else lab.databases.kinds
    for kind in kinds:
        await _on_database(lab, kind, section)
    section.method = [
        "The stack of `make run`, started by devstack's Stack library on free "
        "ports: embedded broker (Tansu), dev mailbox, identity, notifier and "
        "audit, each a process; telemetry off; identity's rate limit off.",
        f"Registrations at {RATE:.0f}/s, open loop (sent on schedule whatever "
        "the answers), each a new address with a strong password: one argon2 "
        "hash, a registration_success event, a verification mail.",
        "commit -> X: from the envelope's occurred_at (identity takes it "
        "right before the append transaction, after the password hash) to X. "
        "answer -> audit row: from the moment the client had the 202, a lower "
        "bound on commit -> audit row. The audit row counts from the poll "
        f"that first saw it (a query every {POLL_S * 1000:.0f} ms on the audit "
        "database, as an analyst would read it); the mail from the dev "
        "mailbox's received_at (after the SMTP DATA was accepted).",
        "Floor: the same broker, a bare aiokafka producer (acks=all, linger 2 "
        "ms) and an assigned consumer, at the same rate.",
        f"Relay throughput: a separate identity with its relay off records "
        f"{BACKLOG} refused registrations (no hash), then `identity relay` "
        "starts and drains the backlog to the broker; rows per second from its "
        "first acknowledged batch to the last.",
    ]
    return [section]


async def _on_database(lab: Lab, kind: str, section: Section) -> None:
    overrides: dict[str, Any] = {}
    for service in ("identity", "notifier", "audit"):
        overrides[f"{service}_database_url"] = (
            await lab.databases.url(kind, f"pipe-{service}")
            if kind != "sqlite"
            else None
        )
    settings = settings_on_free_ports(
        lab.work_dir / f"stack-{kind}",
        **{k: v for k, v in overrides.items() if v is not None},
        otel_sdk_disabled=True,
    )
    log = lab.log(f"stack-{kind}")
    log.parent.mkdir(parents=True, exist_ok=True)
    rates = [10.0] if lab.options.quick else [RATE, SUSTAINED_RATE]
    with log.open("w") as sink:
        output = StackOutput(Console(file=sink, highlight=False, width=200))
        stack = Stack(settings, output, _configured(stack_stages(settings)))
        async with stack:
            count = int(rates[0] * (lab.options.duration + lab.options.warmup))
            floors = [
                await round_trips(settings.bootstrap_servers, rates[0], count, wait)
                for _ in range(lab.options.runs)
                for wait in FLOOR_FETCH_WAITS
            ]
            audit_engine = create_async_engine(settings.database_url("audit"))
            identity_engine = create_async_engine(settings.database_url("identity"))
            try:
                by_rate = {
                    rate: [
                        await _registration_run(
                            lab,
                            settings.identity_url,
                            settings.mailbox_url,
                            audit_engine,
                            identity_engine,
                            rate,
                        )
                        for _ in range(lab.options.runs)
                    ]
                    for rate in rates
                }
            finally:
                await audit_engine.dispose()
                await identity_engine.dispose()
            relay = await _relay_throughput(lab, kind, settings.bootstrap_servers)
    for rate, runs in by_rate.items():
        _report(lab, kind, rate, runs, floors, relay, section, rate == rates[0])


async def _registration_run(
    lab: Lab,
    identity_url: str,
    mailbox_url: str,
    audit: AsyncEngine,
    identity: AsyncEngine,
    rate: float,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    total = int(rate * (lab.options.duration + lab.options.warmup)) + 5
    requests = [
        {
            "method": "POST",
            "path": "/v1/users",
            "json": {
                "email": f"pipe-{run}-{i}@bench.example.com",
                "password": PASSWORD,
            },
            "tag": f"pipe-{run}-{i}@bench.example.com",
        }
        for i in range(total)
    ]
    spec = {
        "mode": "open",
        "url": identity_url,
        "rate": rate,
        "requests": requests,
        "warmup": 0.0,
        "duration": lab.options.duration + lab.options.warmup,
        "keep_records": True,
    }
    poller = _AuditPoller(audit)
    polling = asyncio.create_task(poller.run())
    try:
        load = await lab.load(spec, "register")
        records = {r["tag"]: r for r in load["records"] if r["status"] == 202}
        poller.expect(records)
        await poller.wait_all(30.0)
    finally:
        poller.stop()
        await polling
    mails = await _mail_arrivals(mailbox_url, set(records), 60.0)
    published = await _published_at(identity, set(records))
    first = min((r["sent_at"] for r in records.values()), default=0.0)
    warm = first + lab.options.warmup
    rows: dict[str, list[float]] = {
        "commit_to_published": [],
        "commit_to_audit": [],
        "answer_to_audit": [],
        "commit_to_mail": [],
        "commit_to_answer": [],
    }
    for email, record in records.items():
        if record["sent_at"] < warm or email not in poller.seen:
            continue
        occurred, seen = poller.seen[email]
        rows["commit_to_audit"].append((seen - occurred) * 1000)
        rows["answer_to_audit"].append((seen - record["answered_at"]) * 1000)
        rows["commit_to_answer"].append((record["answered_at"] - occurred) * 1000)
        if email in mails:
            rows["commit_to_mail"].append((mails[email] - occurred) * 1000)
        if email in published:
            rows["commit_to_published"].append((published[email] - occurred) * 1000)
    measured = sum(1 for r in records.values() if r["sent_at"] >= warm)
    return {
        "sent": load["completed"],
        "accepted": len(records),
        "measured": measured,
        "audit_rows": len(rows["commit_to_audit"]),
        "mails": len(rows["commit_to_mail"]),
        "registration_p50_ms": load["p50_ms"],
        "registration_p99_ms": load["p99_ms"],
        "loadgen_cpu_s": load["cpu_seconds"],
        **{f"{k}_p50": percentile(v, 0.5) for k, v in rows.items()},
        **{f"{k}_p99": percentile(v, 0.99) for k, v in rows.items()},
    }


class _AuditPoller:
    """Reads new registration rows of ``audit_events`` every POLL_S seconds."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._stopping = False
        self._since = time.time()
        self._wanted: set[str] | None = None
        self.seen: dict[str, tuple[float, float]] = {}

    def expect(self, records: dict[str, Any]) -> None:
        self._wanted = set(records)

    def stop(self) -> None:
        self._stopping = True

    async def wait_all(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._wanted is not None and self._wanted <= self.seen.keys():
                return
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        sqlite = self._engine.dialect.name == "sqlite"
        query = text(
            "SELECT email, occurred_at FROM audit_events "
            "WHERE event_type = 'registration_success' AND occurred_at >= :since"
        )
        async with self._engine.connect() as conn:
            while not self._stopping:
                since = datetime.fromtimestamp(self._since - 1.0, UTC)
                bound: Any = since.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else since
                rows = (await conn.execute(query, {"since": bound})).all()
                await conn.rollback()  # a fresh snapshot for the next poll
                now = time.time()
                for email, occurred in rows:
                    if email not in self.seen:
                        self.seen[email] = (_epoch(occurred), now)
                self._advance()
                await asyncio.sleep(POLL_S)

    def _advance(self) -> None:
        """Only rows newer than the oldest registration not seen yet matter."""
        if self._wanted is None:
            return
        pending = [self.seen[e][0] for e in self.seen if e in self._wanted]
        if pending and self._wanted <= self.seen.keys():
            self._since = max(pending)


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


async def _mail_arrivals(
    mailbox_url: str, emails: set[str], within: float
) -> dict[str, float]:
    found: dict[str, float] = {}
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=mailbox_url, timeout=30) as http:
        while time.monotonic() < deadline:
            messages = (await http.get("/api/messages")).json()
            for message in messages:
                if message["to"] in emails:
                    found[message["to"]] = _epoch(message["received_at"])
            if emails <= found.keys():
                break
            await asyncio.sleep(0.5)
        await http.delete("/api/messages")
    return found


async def _published_at(engine: AsyncEngine, emails: set[str]) -> dict[str, float]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT message_value, published_at FROM outbox")
        )
        found: dict[str, float] = {}
        for value, published in rows:
            envelope = json.loads(bytes(value))
            if (
                envelope["email"] in emails
                and published is not None
                and envelope["event_type"] == "registration_success"
            ):
                found[envelope["email"]] = _epoch(published)
        return found


async def _relay_throughput(lab: Lab, kind: str, bootstrap: str) -> dict[str, Any]:
    """Rows per second of `identity relay` draining a backlog of BACKLOG rows."""
    backlog = 200 if lab.options.quick else BACKLOG
    database_url = await lab.databases.url(kind, "relay")
    topic = {"AUTH_EVENTS_TOPIC": f"bench.relay.{uuid.uuid4().hex[:6]}"}
    identity = await start_identity(
        lab.work_dir,
        f"identity-relay-{kind}",
        database_url,
        bootstrap,
        extra={"IDENTITY_RELAY_ENABLED": "false", **topic},
    )
    try:
        async with httpx.AsyncClient(base_url=identity.url, timeout=60) as http:
            gate = asyncio.Semaphore(16)

            async def refused(i: int) -> None:
                async with gate:
                    await http.post(
                        "/v1/users",
                        json={"email": f"r{i}@relay.example.com", "password": "short"},
                    )

            await asyncio.gather(*(refused(i) for i in range(backlog)))
    finally:
        await identity.service.stop()
    engine = create_async_engine(database_url)
    relay = Service(
        f"identity-relay-{kind}",
        [*identity.service.argv[:1], "relay"],
        identity.env | {"IDENTITY_RELAY_ENABLED": "true"},
        lab.log(f"identity-relay-{kind}"),
    )
    try:
        pending_query = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        async with engine.connect() as conn:
            total = int((await conn.execute(pending_query)).scalar_one())
        started = time.monotonic()
        await relay.start()
        pending = total
        while pending and time.monotonic() - started < 120:
            await asyncio.sleep(0.05)
            async with engine.connect() as conn:
                pending = int((await conn.execute(pending_query)).scalar_one())
        wall = time.monotonic() - started
        async with engine.connect() as conn:
            stamps = [
                _epoch(row[0])
                for row in await conn.execute(text("SELECT published_at FROM outbox"))
                if row[0] is not None
            ]
    finally:
        await relay.stop()
        await engine.dispose()
    # Rows acknowledged after the relay's first batch, over the time they took:
    # the relay's own pace, without its process start-up.
    first, last = min(stamps, default=0.0), max(stamps, default=0.0)
    after_first = sum(1 for stamp in stamps if stamp > first)
    per_second = after_first / (last - first) if last > first else float("nan")
    return {
        "rows": total,
        "published": len(stamps),
        "per_second": per_second,
        "wall_s": wall,
        "wall_per_second": len(stamps) / wall,
    }


def _report(
    lab: Lab,
    kind: str,
    rate: float,
    runs: list[dict[str, Any]],
    floors: list[dict[str, Any]],
    relay: dict[str, Any],
    section: Section,
    first: bool,
) -> None:
    def med(key: str) -> float | None:
        return rounded(median([float(r[key]) for r in runs]))

    hops = [
        ("commit -> outbox row published (relay)", "commit_to_published"),
        ("commit -> audit row queryable", "commit_to_audit"),
        ("client has the 202 -> audit row queryable", "answer_to_audit"),
        ("commit -> mail accepted by SMTP", "commit_to_mail"),
        ("commit -> client has the 202", "commit_to_answer"),
    ]
    rows: list[list[Any]] = [
        [name, med(f"{key}_p50"), med(f"{key}_p99")] for name, key in hops
    ]
    for wait in FLOOR_FETCH_WAITS if first else ():
        same = [f for f in floors if f["fetch_max_wait_ms"] == wait]
        rows.append(
            [
                "floor: bare aiokafka produce -> consume, same broker, "
                f"fetch_max_wait_ms={wait}"
                + (
                    " (as the services)"
                    if wait == KafkaSettings().kafka_fetch_max_wait_ms
                    else " (aiokafka's default)"
                ),
                rounded(median([float(f["p50_ms"]) for f in same])),
                rounded(median([float(f["p99_ms"]) for f in same])),
            ]
        )
    rows.append(
        [
            "registration request (POST /v1/users) as the client saw it",
            med("registration_p50_ms"),
            med("registration_p99_ms"),
        ]
    )
    counts = ", ".join(
        f"{r['measured']} measured / {r['audit_rows']} audit rows / {r['mails']} mails"
        for r in runs
    )
    section.tables.append(
        Table(
            f"Registrations at {rate:.0f}/s, {kind} (medians of "
            f"{lab.options.runs} runs of {lab.options.duration:.0f} s after "
            f"{lab.options.warmup:.0f} s warm-up; {counts})",
            ["hop", "p50 ms", "p99 ms"],
            rows,
        )
    )
    if first:
        section.tables.append(
            Table(
                f"Outbox relay draining a backlog, {kind}",
                [
                    "rows",
                    "rows/s after the first batch",
                    "wall s (incl. process start)",
                    "rows/s over the wall time",
                ],
                [
                    [
                        relay["rows"],
                        rounded(relay["per_second"]),
                        rounded(relay["wall_s"]),
                        rounded(relay["wall_per_second"]),
                    ]
                ],
            )
        )
    section.data.setdefault(kind, {"floor": floors, "relay": relay})[rate] = runs
    if rate != RATE:
        return
    p99 = median([float(r["commit_to_audit_p99"]) for r in runs])
    section.goals.append(
        Goal(
            f"commit -> audit row p99 at {rate:.0f} registrations/s ({kind})",
            f"< {AUDIT_P99_GOAL_MS:.0f} ms",
            f"{p99:.1f} ms",
            p99 < AUDIT_P99_GOAL_MS,
        )
    )
