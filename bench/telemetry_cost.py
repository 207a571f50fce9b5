"""Benchmark 6: what exporting telemetry costs identity.

Two identity processes, identical but for telemetry: one exports traces,
metrics and logs over OTLP/gRPC to a local receiver (bench/otlp_sink.py, its
own process), the other has OTEL_SDK_DISABLED=true. The same login load and
the same health load run against each in alternating order; ratios are
taken per run (telemetry on / off), then the median.
"""

import asyncio
import sys
from typing import Any

from bench.accounts import login_requests, register_and_verify
from bench.identity import TELEMETRY_OFF, Identity, start_identity, telemetry_to
from bench.lab import Lab
from bench.login import login_spec
from bench.processes import Service, clean_environment
from bench.profiling import profile_identity
from bench.results import Goal, Section, Table
from bench.stats import median, rounded
from devstack.broker import free_port, wait_for_port

LOGIN_LEVEL = 8
HEALTH_LEVEL = 8
LOGIN_GOAL = 0.97
HEALTH_GOAL = 0.85


def health_spec(lab: Lab, url: str) -> dict[str, Any]:
    return {
        "mode": "closed",
        "url": url,
        "requests": [{"method": "GET", "path": "/healthz"}],
        "concurrency": HEALTH_LEVEL,
        "warmup": lab.options.warmup,
        "duration": lab.options.duration,
    }


async def telemetry_benchmark(lab: Lab) -> list[Section]:
    section = Section(
        "telemetry",
        "6. Telemetry cost: OTLP export against telemetry disabled",
        "python -m bench --only telemetry",
    )
    port = free_port()
    sink = Service(
        "otlp-sink",
        [sys.executable, "-m", "bench.otlp_sink", str(port)],
        clean_environment(),
        lab.log("otlp-sink"),
    )
    await sink.start()
    await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 15.0)
    identities: dict[str, Identity] = {}
    try:
        broker = await lab.broker()
        for mode, telemetry in (
            ("off", TELEMETRY_OFF),
            ("otlp", telemetry_to(f"http://127.0.0.1:{port}")),
        ):
            url = lab.databases.sqlite(f"telemetry-{mode}")
            identities[mode] = await start_identity(
                lab.work_dir, f"identity-telemetry-{mode}", url, broker, telemetry
            )
        requests = {}
        for mode, identity in identities.items():
            accounts = await register_and_verify(
                identity.url,
                identity.database_url,
                identity.sealer,
                16 if lab.options.quick else 64,
                f"tel{mode}",
            )
            requests[mode] = login_requests(accounts)
        results: dict[str, dict[str, list[dict[str, Any]]]] = {
            "off": {"login": [], "health": []},
            "otlp": {"login": [], "health": []},
        }
        for run in range(lab.options.runs):
            order = ["off", "otlp"] if run % 2 == 0 else ["otlp", "off"]
            for mode in order:
                identity = identities[mode]
                results[mode]["login"].append(
                    await lab.load(
                        login_spec(lab, identity.url, requests[mode], LOGIN_LEVEL),
                        "telemetry-login",
                    )
                )
                results[mode]["health"].append(
                    await lab.load(health_spec(lab, identity.url), "telemetry-health")
                )
        if lab.options.profile:
            section.notes += await _profile_misses(lab, identities["otlp"], results)
    finally:
        for identity in identities.values():
            await identity.service.stop()
        await sink.stop()
    _report(lab, results, section, sink.tail(1))
    return [section]


async def _profile_misses(
    lab: Lab, identity: Identity, results: dict[str, dict[str, list[dict[str, Any]]]]
) -> list[str]:
    notes: list[str] = []
    for load, goal in (("login", LOGIN_GOAL), ("health", HEALTH_GOAL)):
        if _ratio(results, load) >= goal:
            continue
        if load == "login":
            notes.append(
                "Login with OTLP export: see the login profile of benchmark 1 "
                "for the request path; the export's share shows in the health "
                "profile below."
            )
            continue
        notes += await profile_identity(
            lab,
            identity.service,
            lab.load(health_spec(lab, identity.url)),
            "telemetry-health",
        )
    return notes


def _ratio(results: dict[str, dict[str, list[dict[str, Any]]]], load: str) -> float:
    on, off = results["otlp"][load], results["off"][load]
    return median(
        [
            float(a["throughput"]) / max(1e-9, float(b["throughput"]))
            for a, b in zip(on, off, strict=True)
        ]
    )


def _report(
    lab: Lab,
    results: dict[str, dict[str, list[dict[str, Any]]]],
    section: Section,
    received: str,
) -> None:
    rows = []
    for load, goal in (("login", LOGIN_GOAL), ("health", HEALTH_GOAL)):
        off, on = results["off"][load], results["otlp"][load]
        ratio = _ratio(results, load)
        for name, runs in (("telemetry off", off), ("OTLP export", on)):
            rows.append(
                [
                    load,
                    name,
                    rounded(median([float(r["throughput"]) for r in runs])),
                    rounded(median([float(r["p50_ms"]) for r in runs])),
                    rounded(median([float(r["p99_ms"]) for r in runs])),
                    None,
                ]
            )
        rows.append([load, "OTLP / off", None, None, None, rounded(ratio, 3)])
        section.goals.append(
            Goal(
                f"{load} throughput with OTLP export vs telemetry off",
                f">= {goal}",
                f"{ratio:.3f}",
                ratio >= goal,
            )
        )
    section.tables.append(
        Table(
            f"Identity with and without telemetry (medians of {lab.options.runs} "
            "alternating runs)",
            ["load", "telemetry", "requests/s", "p50 ms", "p99 ms", "ratio"],
            rows,
        )
    )
    section.method = [
        f"Login: {LOGIN_LEVEL} closed-loop workers on POST /v1/auth/token (JSON), "
        f"as benchmark 1. Health: {HEALTH_LEVEL} closed-loop workers on GET "
        "/healthz: the cost per request of the middleware and instrumentation "
        "where the handler does almost nothing. The load generator is one "
        "Python process: on the health load it takes about a core itself.",
        "OTLP: OTEL_EXPORTER_OTLP_ENDPOINT to a local gRPC receiver "
        "(bench/otlp_sink.py) that accepts and counts; the SDK's defaults "
        "otherwise (batch span and log processors, metrics every 60 s). "
        f"Received during the benchmark: {received or 'unknown'}.",
    ]
    section.data = results
