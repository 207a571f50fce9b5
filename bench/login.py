"""Benchmarks 1 and 2: login throughput against the argon2 limit; the event
loop's health probe while logins saturate the hashing pool.

Per database, one identity process; per run and concurrency level: the raw
argon2id limit measured right before (identity idle), then the login load
with a health probe beside it. Ratios are per run, then the median is taken.
"""

import asyncio
import time
from typing import Any

from bench.accounts import Account, login_requests, register_and_verify
from bench.identity import Identity, start_identity
from bench.lab import Lab
from bench.profiling import profile_identity
from bench.results import Goal, Section, Table
from bench.stats import median, rounded

LEVELS = (2, 8, 32)
QUICK_LEVELS = (8,)
SECOND_DATABASE_LEVELS = (8, 32)
FAILURE_LEVEL = 8
HEALTH_RATE = 50.0
LIMIT_SECONDS = 3.0
THROUGHPUT_GOAL = 0.9
FAILURE_TOLERANCE = 0.10
HEALTH_P99_GOAL_MS = 50.0


def login_spec(lab: Lab, url: str, requests: list[Any], workers: int) -> dict[str, Any]:
    return {
        "mode": "closed",
        "url": url,
        "requests": requests,
        "concurrency": workers,
        "warmup": lab.options.warmup,
        "duration": lab.options.duration,
    }


def health_probe_spec(lab: Lab, url: str) -> dict[str, Any]:
    return {
        "mode": "open",
        "url": url,
        "rate": HEALTH_RATE,
        "requests": [{"method": "GET", "path": "/healthz"}],
        "warmup": lab.options.warmup,
        "duration": lab.options.duration,
    }


async def measured_login(
    lab: Lab, identity: Identity, requests: list[Any], workers: int
) -> dict[str, Any]:
    """One login run with the health probe beside it and identity's CPU time."""
    cpu = identity.service.cpu_seconds()
    began = time.monotonic()
    login, health = await asyncio.gather(
        lab.load(login_spec(lab, identity.url, requests, workers), "login"),
        lab.load(health_probe_spec(lab, identity.url), "health"),
    )
    wall = time.monotonic() - began
    cpu = identity.service.cpu_seconds() - cpu
    # Identity's CPU over the whole run (warm-up and the health probe's 50
    # requests/s included) against every login it answered in that time.
    login["identity_cpu_ms_per_login"] = 1000 * cpu / max(1, login["answered"])
    login["identity_cores_busy"] = cpu / wall
    login["loadgen_cores_busy"] = login["cpu_seconds"] / wall
    login["health"] = health
    return dict(login)


async def login_benchmarks(lab: Lab) -> list[Section]:
    throughput = Section(
        "login",
        "1. Login throughput against the argon2id limit",
        "python -m bench --only login",
    )
    loop = Section(
        "event_loop",
        "2. The event loop under load: GET /healthz while logins run",
        "python -m bench --only login",
    )
    for kind in lab.databases.kinds:
        if kind != "sqlite" and lab.options.quick:
            continue
        await _on_database(lab, kind, throughput, loop)
    _explain(lab, throughput, loop)
    return [throughput, loop]


async def _on_database(lab: Lab, kind: str, throughput: Section, loop: Section) -> None:
    database_url = await lab.databases.url(kind, "login")
    identity = await start_identity(
        lab.work_dir,
        f"identity-login-{kind}",
        database_url,
        await lab.broker(),
        extra=dict(lab.options.identity_env),
    )
    try:
        accounts = await register_and_verify(
            identity.url,
            database_url,
            identity.sealer,
            16 if lab.options.quick else 64,
            "login",
        )
        idle = await lab.load(health_probe_spec(lab, identity.url), "health-idle")
        levels: tuple[int, ...] = QUICK_LEVELS if lab.options.quick else LEVELS
        if kind != "sqlite":
            levels = SECOND_DATABASE_LEVELS  # keeps `make bench` near 20 minutes
        runs = await _level_runs(lab, identity, accounts, levels)
        failures = await _failure_runs(lab, identity, accounts)
        _report(lab, kind, levels, runs, failures, idle, throughput, loop)
        if lab.options.profile and not lab.options.quick and kind == "sqlite":
            await _profile_if_missed(lab, identity, accounts, throughput, loop)
    finally:
        await identity.service.stop()


async def _level_runs(
    lab: Lab, identity: Identity, accounts: list[Account], levels: tuple[int, ...]
) -> dict[int, list[dict[str, Any]]]:
    requests = login_requests(accounts)
    runs: dict[int, list[dict[str, Any]]] = {level: [] for level in levels}
    for _ in range(lab.options.runs):
        for level in levels:
            limit = await lab.argon2_limit(1.0 if lab.options.quick else LIMIT_SECONDS)
            result = await measured_login(lab, identity, requests, level)
            result["limit"] = limit
            result["ratio"] = result["throughput"] / limit
            runs[level].append(result)
    return runs


async def _failure_runs(
    lab: Lab, identity: Identity, accounts: list[Account]
) -> dict[str, list[dict[str, Any]]]:
    kinds = ("success", "wrong_password", "unknown_email")
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(lab.options.runs):
        for kind in kinds:
            requests = login_requests(accounts, kind)
            runs[kind].append(
                await measured_login(lab, identity, requests, FAILURE_LEVEL)
            )
    return runs


def _med(runs: list[dict[str, Any]], key: str, digits: int = 1) -> float | None:
    return rounded(median([float(r[key]) for r in runs]), digits)


def _report(
    lab: Lab,
    kind: str,
    levels: tuple[int, ...],
    runs: dict[int, list[dict[str, Any]]],
    failures: dict[str, list[dict[str, Any]]],
    idle: dict[str, Any],
    throughput: Section,
    loop: Section,
) -> None:
    rows = []
    for level in levels:
        r = runs[level]
        rows.append(
            [
                level,
                _med(r, "throughput"),
                _med(r, "limit"),
                _med(r, "ratio", 3),
                _med(r, "p50_ms"),
                _med(r, "p99_ms"),
                _med(r, "identity_cpu_ms_per_login", 2),
                _med(r, "identity_cores_busy", 2),
                _med(r, "loadgen_cores_busy", 2),
                _statuses(r),
            ]
        )
    throughput.tables.append(
        Table(
            f"Successful logins, {kind} (medians of {lab.options.runs} runs)",
            [
                "concurrency",
                "logins/s",
                "argon2 limit/s",
                "ratio",
                "p50 ms",
                "p99 ms",
                "identity CPU ms/login",
                "identity cores busy",
                "load generator cores busy",
                "statuses",
            ],
            rows,
        )
    )
    success = median([float(r["throughput"]) for r in failures["success"]])
    failure_rows = []
    for name, r in failures.items():
        value = median([float(x["throughput"]) for x in r])
        failure_rows.append(
            [
                name,
                FAILURE_LEVEL,
                rounded(value),
                rounded(value / success, 3),
                _med(r, "p50_ms"),
                _med(r, "p99_ms"),
                _statuses(r),
            ]
        )
        if name != "success":
            throughput.goals.append(
                Goal(
                    f"{name} logins within 10% of successful ones ({kind})",
                    "0.90 to 1.10",
                    f"{value / success:.3f}",
                    abs(value / success - 1) <= FAILURE_TOLERANCE,
                )
            )
    throughput.tables.append(
        Table(
            f"Failed logins beside successful ones, {kind} (interleaved runs)",
            [
                "kind",
                "concurrency",
                "logins/s",
                "vs success",
                "p50 ms",
                "p99 ms",
                "statuses",
            ],
            failure_rows,
        )
    )
    for level in levels:
        if level < lab.options.cores:
            continue  # fewer workers than hashing threads: the limit is not reachable
        ratio = median([float(r["ratio"]) for r in runs[level]])
        throughput.goals.append(
            Goal(
                f"logins/s at concurrency {level} vs argon2 limit ({kind})",
                f">= {THROUGHPUT_GOAL}",
                f"{ratio:.3f}",
                ratio >= THROUGHPUT_GOAL,
            )
        )
    health_rows = [
        [
            "idle (no login load)",
            rounded(idle["p50_ms"]),
            rounded(idle["p99_ms"]),
            rounded(idle["max_ms"]),
            idle["completed"],
        ]
    ]
    for level in levels:
        probes = [r["health"] for r in runs[level]]
        health_rows.append(
            [
                f"logins at concurrency {level}",
                _med(probes, "p50_ms"),
                _med(probes, "p99_ms"),
                _med(probes, "max_ms"),
                sum(int(p["completed"]) for p in probes),
            ]
        )
        if level >= lab.options.cores:
            p99 = median([float(p["p99_ms"]) for p in probes])
            loop.goals.append(
                Goal(
                    f"GET /healthz p99 while logins run at concurrency {level} "
                    f"({kind})",
                    f"< {HEALTH_P99_GOAL_MS:.0f} ms",
                    f"{p99:.1f} ms",
                    p99 < HEALTH_P99_GOAL_MS,
                )
            )
    loop.tables.append(
        Table(
            f"GET /healthz at {HEALTH_RATE:.0f}/s (open loop), {kind} "
            f"(medians of {lab.options.runs} runs)",
            ["while", "p50 ms", "p99 ms", "max ms", "probes"],
            health_rows,
        )
    )
    throughput.data[kind] = {"levels": runs, "failures": failures}
    loop.data[kind] = {"idle": idle}


def _statuses(runs: list[dict[str, Any]]) -> str:
    total: dict[str, int] = {}
    for run in runs:
        for status, count in run["statuses"].items():
            total[status] = total.get(status, 0) + int(count)
        if run.get("errors"):
            total["transport errors"] = total.get("transport errors", 0) + run["errors"]
    return ", ".join(f"{k}: {v}" for k, v in sorted(total.items()))


async def _profile_if_missed(
    lab: Lab,
    identity: Identity,
    accounts: list[Account],
    throughput: Section,
    loop: Section,
) -> None:
    if all(goal.met for goal in throughput.goals + loop.goals):
        return
    requests = login_requests(accounts)
    load = lab.load(login_spec(lab, identity.url, requests, max(LEVELS)), "profile")
    summary = await profile_identity(lab, identity.service, load, "login")
    throughput.notes.extend(summary)


def _explain(lab: Lab, throughput: Section, loop: Section) -> None:
    throughput.method = [
        "identity runs as `identity serve` (uvicorn, one process) with its "
        "defaults: argon2id m=19456 KiB, t=2, p=1, a hashing pool of one thread "
        "per core, the outbox relay publishing every event to the embedded "
        "broker; telemetry off (OTEL_SDK_DISABLED=true, see benchmark 6 for its "
        "cost). Rate limit off (all load comes from 127.0.0.1), lockout "
        "threshold out of reach so that wrong passwords stay on the "
        "wrong-password path.",
        "The limit: argon2-cffi verifying the same kind of hash in "
        f"{lab.options.cores} threads (one per core) for {LIMIT_SECONDS:.0f} s, "
        "in its own process, right before each login run, identity idle.",
        "The load: `python -m bench.loadgen`, httpx on uvloop in its own "
        "process, N closed-loop workers, each with its own accounts (no two "
        "workers share a stream); JSON body on POST /v1/auth/token; "
        f"{lab.options.warmup:.0f} s warm-up, then {lab.options.duration:.0f} s "
        "measured. A health probe (another process) runs beside every login "
        "run. The load generators run on the same 2 cores as identity: the "
        "'cores busy' columns say how much each took. 'identity CPU ms/login': "
        "identity's CPU time over the whole run (warm-up and the health "
        "probe included) divided by every login it answered in that time.",
        "unknown_email uses addresses no account holds (their own "
        "`address:` streams); wrong_password uses the accounts above with a "
        "wrong password. Every answer costs one argon2 verification.",
    ]
    loop.method = [
        f"An open-loop probe sends GET /healthz {HEALTH_RATE:.0f} times a second "
        "from its own process during each login run of benchmark 1, and once "
        "with no load. Latency is measured from the scheduled send time, so a "
        "stalled event loop cannot hide behind a slow client.",
    ]
