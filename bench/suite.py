"""The command line: pick the benchmarks, run them in order, write the report."""

import argparse
import asyncio
import importlib
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import machine, report
from bench.databases import DEFAULT_POSTGRES, Databases, postgres_version
from bench.lab import Lab, Options
from bench.machine import ForeignCpu
from bench.processes import REPO
from bench.results import Section

Benchmark = Callable[[Lab], Awaitable[list[Section]]]


BENCHMARKS = {
    "login": "bench.login:login_benchmarks",
    "peer": "bench.peer_compare:peer_benchmark",
    "pipeline": "bench.pipeline:pipeline_benchmark",
    "ingest": "bench.ingest:ingest_benchmark",
    "telemetry": "bench.telemetry_cost:telemetry_benchmark",
}


def _load(name: str) -> Benchmark:
    module, _, function = BENCHMARKS[name].partition(":")
    found: Benchmark = getattr(importlib.import_module(module), function)
    return found


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and one run: a smoke test, not figures",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: login, peer, pipeline, ingest, telemetry",
    )
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--duration", type=float, default=None, help="s per run")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin DSN")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--identity-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for identity in the login benchmark (repeatable)",
    )
    parser.add_argument("--markdown", type=Path, default=REPO / "docs/benchmarks.md")
    parser.add_argument("--json", type=Path, default=REPO / "docs/benchmarks.json")
    parser.add_argument("--work-dir", type=Path, default=None)
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace, dsn: str | None) -> Options:
    quick = bool(args.quick)
    return Options(
        quick=quick,
        runs=args.runs or (1 if quick else 3),
        duration=args.duration or (1.5 if quick else 8.0),
        warmup=0.5 if quick else 2.0,
        profile=not args.no_profile and not quick,
        only=frozenset(n for n in args.only.split(",") if n),
        postgres_dsn=dsn,
        ingest_events=2_000 if quick else 100_000,
        identity_env=tuple(
            (name, value)
            for name, _, value in (item.partition("=") for item in args.identity_env)
        ),
    )


async def run(args: argparse.Namespace, argv: list[str]) -> int:
    started = time.monotonic()
    dsn = None if args.no_postgres else args.postgres
    version = await postgres_version(dsn) if dsn else None
    options = options_from(args, dsn if version else None)
    unknown = options.only - BENCHMARKS.keys()
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="authtrail-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        lab = Lab(options, work, Databases(work, options.postgres_dsn))
        sections: list[Section] = []
        failed = False
        try:
            for name in BENCHMARKS:
                if options.only and name not in options.only:
                    continue
                print(f"bench: {name} ...", file=sys.stderr, flush=True)
                load_before = os.getloadavg()[0]
                foreign = ForeignCpu()
                began = time.monotonic()
                try:
                    produced = await _load(name)(lab)
                except Exception:
                    failed = True
                    traceback.print_exc()
                    produced = [_failed_section(name)]
                load_after = os.getloadavg()[0]
                others = foreign.cores()
                for section in produced:
                    section.seconds = time.monotonic() - began
                    section.data["load_average_1min"] = [load_before, load_after]
                    section.data["foreign_cores"] = others
                    if others > BUSY_MACHINE:
                        section.notes.insert(0, _busy_warning(others))
                sections += produced
                print(
                    f"bench: {name} done in {time.monotonic() - began:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            await lab.close()
    meta = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "minutes": (time.monotonic() - started) / 60,
        "command": "python -m bench " + shlex.join(argv) if argv else "make bench",
        "runs": options.runs,
        "cores": options.cores,
        "quick": options.quick,
    }
    report.write(sections, machine.describe(version), meta, args.markdown, args.json)
    print(f"bench: wrote {args.markdown} and {args.json}", file=sys.stderr)
    return 1 if failed else 0


# Cores' worth of CPU that processes other than the benchmark's own (and the
# PostgreSQL server it uses) took on average while a benchmark ran; above
# this, the figures understate the code. (The load average cannot tell: the
# benchmark's own threads keep it above the number of cores.)
BUSY_MACHINE = 0.2


def _busy_warning(others: float) -> str:
    return (
        f"**Busy machine**: processes outside the benchmark took {others:.2f} "
        f"cores on average while it ran, of {os.cpu_count()}: these figures "
        "understate the code and their spread is wide. Re-run on a quiet machine."
    )


def _failed_section(name: str) -> Section:
    return Section(
        name,
        f"{name}: failed",
        f"python -m bench --only {name}",
        notes=["the benchmark raised; see the traceback of the run"],
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return asyncio.run(run(parse(argv), argv))
