"""``devstack soak``: a long run of steady mixed traffic against a running stack.

Users registered and verified at the start log in (and mistype), read their
profile, log out, ask for resets and resends, and new users keep arriving,
at a steady rate for the whole run. Every sample interval the soak reads the
resident memory of each process of the stack (found by its listening port in
``/proc``) and the consumer lag of the notifier and audit groups (end offsets
of the auth events topic minus their committed offsets). The verdict: no 5xx,
each process's memory after warm-up grown by less than 10 %, lag bounded
(its last sample no higher than the most seen during warm-up plus a margin).
The embedded broker and the dev mailbox keep what they receive in memory, so
their growth is reported but not judged.
"""

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table

from devstack.demo.mailbox import MailboxReader
from devstack.demo.pacing import Pacer

MEMORY_GROWTH_LIMIT = 0.10
# Processes whose memory is their data: the memory-only broker keeps every
# message, the dev mailbox every mail. Their growth is shown, not judged.
DATA_HOLDERS = frozenset({"broker", "mailbox"})
LAG_MARGIN = 50
GROUPS = ("notifier", "audit")
PASSWORD_WORDS = ("amber", "harbour", "quartz", "lantern", "meadow", "cobalt")


@dataclass(frozen=True)
class SoakOptions:
    identity_url: str
    audit_url: str
    mailbox_url: str
    bootstrap_servers: str
    ports: dict[str, int]
    topic: str = "auth.events"
    minutes: float = 10.0
    rate: float = 5.0
    users: int = 20
    warmup_fraction: float = 0.2
    sample_seconds: float = 10.0


@dataclass
class Sample:
    at: float
    rss_kib: dict[str, int]
    lag: dict[str, int]


@dataclass
class SoakReport:
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    samples: list[Sample] = field(default_factory=list)
    warmup_ends: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def memory_growth(self) -> dict[str, float]:
        """Per process: last RSS over the RSS at the end of warm-up, minus one."""
        after = [s for s in self.samples if s.at >= self.warmup_ends]
        if len(after) < 2:
            return {}
        first, last = after[0].rss_kib, after[-1].rss_kib
        return {
            name: last[name] / first[name] - 1
            for name in first
            if name in last and first[name]
        }

    def lag_bounded(self) -> bool:
        warm = [s for s in self.samples if s.at < self.warmup_ends] or self.samples
        ceiling = max((max(s.lag.values(), default=0) for s in warm), default=0)
        last = self.samples[-1].lag if self.samples else {}
        return all(value <= ceiling + LAG_MARGIN for value in last.values())

    def passed(self) -> bool:
        growth = self.memory_growth()
        judged = [g for name, g in growth.items() if name not in DATA_HOLDERS]
        return (
            self.server_errors == 0
            and self.transport_errors == 0
            and bool(judged)
            and all(g < MEMORY_GROWTH_LIMIT for g in judged)
            and self.lag_bounded()
        )


@dataclass
class _User:
    email: str
    password: str
    token: str | None = None


class _Traffic:
    """One request per pacer slot, each a step some user would take."""

    def __init__(
        self, http: httpx.AsyncClient, options: SoakOptions, report: SoakReport
    ) -> None:
        self._http = http
        self._options = options
        self._report = report
        self._pacer = Pacer(options.rate)
        self._mailbox = MailboxReader(http, options.mailbox_url, timeout=60.0)
        self._rng = random.Random(7)
        self._tag = uuid.uuid4().hex[:6]
        self._users: list[_User] = []
        self._arrivals = 0

    async def onboard(self, count: int) -> None:
        await asyncio.gather(*(self._arrive() for _ in range(count)))

    async def run_until(self, deadline: float) -> None:
        pending: set[asyncio.Task[None]] = set()
        while time.monotonic() < deadline:
            await self._pacer.wait()
            task = asyncio.create_task(self._step())
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    async def _step(self) -> None:
        roll = self._rng.random()
        user = self._rng.choice(self._users)
        if roll < 0.30:
            await self._log_in(user)
        elif roll < 0.45:
            await self._post(
                "login_wrong", "/v1/auth/token", self._credentials(user, "x")
            )
        elif roll < 0.65:
            await self._me(user)
        elif roll < 0.72:
            await self._logout(user)
        elif roll < 0.80:
            await self._post("forgot", "/v1/password/forgot", {"email": user.email})
        elif roll < 0.85:
            await self._post(
                "resend", "/v1/users/verification/resend", {"email": user.email}
            )
        elif roll < 0.92:
            unknown = f"nobody.{self._rng.randrange(10**6)}@example.com"
            await self._post(
                "login_unknown",
                "/v1/auth/token",
                {"email": unknown, "password": "x" * 9},
            )
        else:
            await self._arrive()

    def _credentials(self, user: _User, suffix: str = "") -> dict[str, str]:
        return {"email": user.email, "password": user.password + suffix}

    async def _arrive(self) -> None:
        self._arrivals += 1
        words = self._rng.sample(PASSWORD_WORDS, 3)
        user = _User(
            f"soak.{self._tag}.{self._arrivals}@example.com",
            f"{'-'.join(words)}-{self._rng.randrange(1000)}",
        )
        answer = await self._post("register", "/v1/users", self._credentials(user))
        if answer is None or answer.status_code != 202:
            return
        token = await self._mailbox.token(user.email, "/verify")
        verified = await self._post(
            "verify", "/v1/users/verification", {"token": token}
        )
        if verified is not None and verified.status_code == 200:
            self._users.append(user)

    async def _log_in(self, user: _User) -> None:
        answer = await self._post("login", "/v1/auth/token", self._credentials(user))
        if answer is not None and answer.status_code == 200:
            user.token = answer.json()["access_token"]

    async def _me(self, user: _User) -> None:
        if user.token is None:
            return await self._log_in(user)
        await self._send("me", "GET", "/v1/users/me", None, user.token)
        return None

    async def _logout(self, user: _User) -> None:
        if user.token is not None:
            await self._send("logout", "POST", "/v1/auth/logout", None, user.token)
            user.token = None

    async def _post(
        self, action: str, path: str, body: dict[str, str]
    ) -> httpx.Response | None:
        return await self._send(action, "POST", path, body, None)

    async def _send(
        self,
        action: str,
        method: str,
        path: str,
        body: dict[str, str] | None,
        token: str | None,
    ) -> httpx.Response | None:
        # Clients from many addresses, as the rate limit counts per client
        # (believed only when the stack trusts this host as a proxy).
        headers = {"X-Forwarded-For": f"198.51.100.{self._rng.randrange(1, 255)}"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._report.actions[action] += 1
        try:
            answer = await self._http.request(
                method,
                f"{self._options.identity_url}{path}",
                json=body,
                headers=headers,
            )
        except httpx.TransportError:
            self._report.transport_errors += 1
            return None
        self._report.statuses[answer.status_code] += 1
        return answer


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` on this machine, from ``/proc``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if fd.readlink().as_posix() in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


async def consumer_lag(
    options: SoakOptions, groups: tuple[str, ...] = GROUPS
) -> dict[str, int]:
    """Per group: messages of the topic not yet committed by that group."""
    lag: dict[str, int] = {}
    for group in groups:
        reader = AIOKafkaConsumer(
            bootstrap_servers=options.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
        )
        await reader.start()
        try:
            partitions = [
                TopicPartition(options.topic, p)
                for p in sorted(reader.partitions_for_topic(options.topic) or ())
            ]
            if not partitions:
                await reader.topics()  # fetch metadata once, then look again
                partitions = [
                    TopicPartition(options.topic, p)
                    for p in sorted(reader.partitions_for_topic(options.topic) or ())
                ]
            committed = {tp: await reader.committed(tp) or 0 for tp in partitions}
            ends = await _ends(reader, committed)
            # The end is read after the commit, but never count below zero.
            lag[group] = sum(max(0, ends[tp] - done) for tp, done in committed.items())
        finally:
            await reader.stop()
    return lag


async def _ends(
    reader: AIOKafkaConsumer, committed: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Each partition's end: the higher of the listed end offset and the high
    watermark of one fetch from the committed offset (the embedded broker lists
    batches, not records, as end offsets)."""
    listed = await reader.end_offsets(list(committed))
    reader.assign(list(committed))
    for tp, offset in committed.items():
        reader.seek(tp, offset)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        reader.highwater(tp) is None for tp in committed
    ):
        await reader.getmany(timeout_ms=500, max_records=1)
    return {tp: max(int(listed[tp]), reader.highwater(tp) or 0) for tp in committed}


async def _sample(options: SoakOptions, pids: dict[str, int], started: float) -> Sample:
    memory = {name: rss for name, pid in pids.items() if (rss := rss_kib(pid))}
    return Sample(time.monotonic() - started, memory, await consumer_lag(options))


async def run_soak(options: SoakOptions, console: Console) -> SoakReport:
    pids = {
        name: pid
        for name, port in options.ports.items()
        if (pid := listening_pid(port)) is not None
    }
    console.print(
        f"soak: processes {pids}; {options.minutes:g} min at {options.rate:g}/s"
    )
    report = SoakReport()
    seconds = options.minutes * 60
    report.warmup_ends = seconds * options.warmup_fraction
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        traffic = _Traffic(http, options, report)
        await traffic.onboard(options.users)
        started = time.monotonic()
        running = asyncio.create_task(traffic.run_until(started + seconds))
        while not running.done():
            sample = await _sample(options, pids, started)
            report.samples.append(sample)
            console.print(
                f"  {sample.at:6.0f} s  {sum(report.statuses.values())} requests, "
                f"{report.server_errors} x 5xx, RSS MiB "
                + ", ".join(
                    f"{n} {kib / 1024:.0f}" for n, kib in sample.rss_kib.items()
                )
                + f", lag {sample.lag}"
            )
            await asyncio.wait({running}, timeout=options.sample_seconds)
        await running
        report.samples.append(await _sample(options, pids, started))
        report.seconds = time.monotonic() - started
    return report


def render_soak(report: SoakReport, console: Console) -> None:
    table = Table(title="soak", show_header=True)
    for column in ("process", "RSS after warm-up (MiB)", "RSS at end (MiB)", "growth"):
        table.add_column(column)
    after = [s for s in report.samples if s.at >= report.warmup_ends]
    growth = report.memory_growth()
    for name, value in growth.items():
        table.add_row(
            name,
            f"{after[0].rss_kib[name] / 1024:.1f}",
            f"{after[-1].rss_kib[name] / 1024:.1f}",
            f"{value:+.1%}" + (" (its data)" if name in DATA_HOLDERS else ""),
        )
    console.print(table)
    total = sum(report.statuses.values())
    per_second = total / max(report.seconds, 1.0)
    console.print(
        f"{total} requests in {report.seconds:.0f} s ({per_second:.1f}/s); "
        f"statuses {dict(sorted(report.statuses.items()))}; "
        f"{report.server_errors} x 5xx; {report.transport_errors} transport errors"
    )
    lags = [max(s.lag.values(), default=0) for s in report.samples]
    last_lag = report.samples[-1].lag if report.samples else {}
    median = statistics.median(lags) if lags else 0
    console.print(
        f"consumer lag: max {max(lags, default=0)}, median {median}, last {last_lag}"
    )
    passed = report.passed()
    console.print(
        f"soak {'PASSED' if passed else 'FAILED'}",
        style="bold green" if passed else "bold red",
    )
