"""Benchmark 5: audit ingest replaying a topic, beside a bare consumer.

A topic is filled with realistic auth events (10 per account: registration,
verification, logins that succeed and fail). ``audit rebuild`` (the replay
path: assign, seek to the beginning, project every batch with the bulk
writes of the live consumer, one transaction) then projects it into a fresh
audit database; a bare aiokafka consumer reads the same topic with the same
fetch settings. Runs alternate; each rebuild gets an empty database.
"""

import asyncio
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.lab import Lab
from bench.processes import clean_environment, python_module, run_once, script
from bench.profiling import profile_command
from bench.results import Goal, Section, Table
from bench.stats import median, rounded
from shared.events import EventEnvelope, EventType, encode_envelope
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings

RATIO_GOAL = 0.5
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)


def _account_events(start: datetime, rng: random.Random) -> list[EventEnvelope]:
    user_id = uuid.uuid4()
    email = f"u{user_id.hex[:12]}@ingest.example.com"
    ip = f"198.51.100.{rng.randrange(1, 255)}"
    agent = rng.choice(AGENTS)
    at = start + timedelta(seconds=rng.uniform(0, 86_400))
    common = {"user_id": user_id, "email": email, "ip": ip, "user_agent": agent}
    events = [
        EventEnvelope(
            event_type=EventType.REGISTRATION_SUCCESS,
            occurred_at=at,
            success=True,
            stream_version=1,
            data={"sealed_token": "x" * 140, "token_expires_at": at},
            **common,
        ),
        EventEnvelope(
            event_type=EventType.EMAIL_VERIFIED,
            occurred_at=at + timedelta(minutes=2),
            success=True,
            stream_version=2,
            **common,
        ),
    ]
    for n in range(8):
        at += timedelta(minutes=rng.uniform(1, 600))
        failed = n % 4 == 3
        events.append(
            EventEnvelope(
                event_type=EventType.LOGIN_FAILED
                if failed
                else EventType.LOGIN_SUCCESS,
                occurred_at=at,
                success=not failed,
                reason="invalid_password" if failed else None,
                duration_ms=rng.uniform(40, 120),
                stream_version=3 + n,
                data={"failed_attempts": 1}
                if failed
                else {"token_id": uuid.uuid4().hex},
                **common,
            )
        )
    return events


async def fill_topic(bootstrap: str, topic: str, count: int) -> int:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=2)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1,
        enable_idempotence=False,
    )
    await producer.start()
    sent = 0
    try:
        while sent < count:
            envelopes = [e for _ in range(100) for e in _account_events(start, rng)]
            envelopes = envelopes[: count - sent]
            pending = []
            for envelope in envelopes:
                trace = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
                headers = [
                    ("traceparent", trace.encode()),
                    ("event_type", envelope.event_type.value.encode()),
                    ("event_id", str(envelope.event_id).encode()),
                    ("content-type", b"application/json"),
                ]
                pending.append(
                    await producer.send(
                        topic,
                        encode_envelope(envelope),
                        key=envelope.key,
                        headers=headers,
                    )
                )
            await asyncio.gather(*pending)
            sent += len(envelopes)
    finally:
        await producer.stop()
    return sent


async def ingest_benchmark(lab: Lab) -> list[Section]:
    section = Section(
        "ingest",
        "5. Audit ingest: replaying a topic",
        "python -m bench --only ingest",
    )
    bootstrap = await lab.broker()
    suffix = uuid.uuid4().hex[:6]
    topics = [f"bench.ingest.{suffix}.auth", f"bench.ingest.{suffix}.notification"]
    settings = KafkaSettings(kafka_bootstrap_servers=bootstrap)
    await ensure_topics(settings, topics, client_id="bench-ingest")
    events = await fill_topic(bootstrap, topics[0], lab.options.ingest_events)
    kinds = ["sqlite"] if lab.options.quick else lab.databases.kinds
    for kind in kinds:
        bare: list[dict[str, Any]] = []
        rebuilt: list[dict[str, Any]] = []
        for _ in range(lab.options.runs):
            bare.append(
                await python_module(
                    "bench.bare_consumer",
                    {"bootstrap": bootstrap, "topics": topics},
                    lab.log("bare-consumer"),
                )
            )
            argv, env = await _rebuild_command(lab, kind, bootstrap, topics)
            rebuilt.append(_parse(await run_once(argv, env, lab.log("rebuild"), 900)))
        _report(lab, kind, events, bare, rebuilt, section)
        if (
            lab.options.profile
            and not all(g.met for g in section.goals)
            and kind == "sqlite"
        ):
            argv, env = await _rebuild_command(lab, kind, bootstrap, topics)
            section.notes += await profile_command(lab, argv, env, "audit-rebuild")
    section.method = [
        f"{events:,} events on one topic of 6 partitions (10 per account: "
        "registration_success with a sealed token, email_verified, 6 "
        "login_success, 2 login_failed; IPs, user agents, traceparent "
        "headers), produced before the runs on the shared embedded broker.",
        "audit: `audit rebuild` as a process (schema migrated first, not "
        "timed), reading both topics from their first offsets and projecting "
        "into an empty audit database in one transaction; its own report of "
        "events and seconds (consumer start to commit).",
        "bare consumer: `python -m bench.bare_consumer`, the same assign / "
        "seek / read-to-end-offsets loop without decoding or writing; seconds "
        "from its start to the last message.",
    ]
    return [section]


async def _rebuild_command(
    lab: Lab, kind: str, bootstrap: str, topics: list[str]
) -> tuple[list[str], dict[str, str]]:
    env = clean_environment() | {
        "AUDIT_DATABASE_URL": await lab.databases.url(kind, "ingest"),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "AUTH_EVENTS_TOPIC": topics[0],
        "NOTIFICATION_EVENTS_TOPIC": topics[1],
        "OTEL_SDK_DISABLED": "true",
        "DATA_DIR": str(lab.work_dir / "audit-ingest"),
    }
    return [script("audit"), "rebuild"], env


_REPORT = re.compile(
    r"rebuilt the audit projection: (\d+) events from (\d+) messages.* in ([\d.]+) s"
)


def _parse(output: str) -> dict[str, Any]:
    found = _REPORT.search(output)
    if found is None:
        raise RuntimeError(f"audit rebuild said: {output[-500:]}")
    projected, messages, seconds = found.groups()
    return {
        "projected": int(projected),
        "messages": int(messages),
        "seconds": float(seconds),
    }


def _report(
    lab: Lab,
    kind: str,
    events: int,
    bare: list[dict[str, Any]],
    rebuilt: list[dict[str, Any]],
    section: Section,
) -> None:
    bare_rates = [b["messages"] / b["seconds"] for b in bare]
    rebuild_rates = [r["projected"] / r["seconds"] for r in rebuilt]
    ratios = [r / b for r, b in zip(rebuild_rates, bare_rates, strict=True)]
    ratio = median(ratios)
    section.tables.append(
        Table(
            f"Replaying {events:,} events, {kind} (medians of {lab.options.runs} "
            "alternating runs)",
            ["reader", "events", "seconds", "events/s"],
            [
                [
                    "bare aiokafka consumer",
                    bare[0]["messages"],
                    rounded(median([b["seconds"] for b in bare]), 2),
                    rounded(median(bare_rates)),
                ],
                [
                    "audit rebuild (projected)",
                    rebuilt[0]["projected"],
                    rounded(median([r["seconds"] for r in rebuilt]), 2),
                    rounded(median(rebuild_rates)),
                ],
                ["audit / bare", None, None, rounded(ratio, 3)],
            ],
        )
    )
    section.goals.append(
        Goal(
            f"audit events projected/s vs bare consumer ({kind})",
            f">= {RATIO_GOAL}",
            f"{ratio:.3f}",
            ratio >= RATIO_GOAL,
        )
    )
    section.data[kind] = {"bare": bare, "rebuild": rebuilt}
