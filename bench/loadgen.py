"""The load generator: its own process, so it competes for the cores visibly.

``python -m bench.loadgen SPEC.json`` prints one JSON result. Modes:

- ``closed``: ``concurrency`` workers, each sending its next request when the
  previous one answered (logins, health). Requests are built from
  ``requests`` (method, path, and a JSON or form body), worker *i* taking
  requests *i*, *i + N*, ... in turn so that no two workers share an account.
- ``open``: one request every ``1 / rate`` seconds whatever the answers
  (registrations at a steady rate; the health probe beside a load).

Only requests that complete inside the measurement window (after
``warmup``) count; the result has the count, the throughput, latency
percentiles, status counts and this process's CPU time.
"""

import asyncio
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile


@dataclass
class Outcome:
    started: float
    finished: float
    status: int
    tag: str


@dataclass
class Recorder:
    window_start: float
    window_end: float
    outcomes: list[Outcome] = field(default_factory=list)
    errors: int = 0
    answered: int = 0  # warm-up and late answers included

    def add(self, outcome: Outcome) -> None:
        self.answered += 1
        if self.window_start <= outcome.finished <= self.window_end:
            self.outcomes.append(outcome)


async def _send(http: httpx.AsyncClient, request: dict[str, Any]) -> httpx.Response:
    method, path = request["method"], request["path"]
    if "json" in request:
        return await http.request(method, path, json=request["json"])
    if "form" in request:
        return await http.request(method, path, data=request["form"])
    return await http.request(method, path)


async def _closed(spec: dict[str, Any], http: httpx.AsyncClient, rec: Recorder) -> None:
    requests: list[dict[str, Any]] = spec["requests"]
    workers = spec["concurrency"]

    async def worker(index: int) -> None:
        mine = requests[index::workers] or requests
        for request in itertools.cycle(mine):
            if time.monotonic() >= rec.window_end:
                return
            started = time.monotonic()
            try:
                response = await _send(http, request)
            except httpx.HTTPError:
                rec.errors += 1
                continue
            rec.add(Outcome(started, time.monotonic(), response.status_code, ""))

    await asyncio.gather(*(worker(i) for i in range(workers)))


async def _open(spec: dict[str, Any], http: httpx.AsyncClient, rec: Recorder) -> None:
    interval = 1.0 / spec["rate"]
    requests = itertools.cycle(spec["requests"])
    tasks: set[asyncio.Task[None]] = set()
    records: list[dict[str, Any]] = spec.setdefault("_records", [])

    async def one(request: dict[str, Any], due: float) -> None:
        wall = time.time()
        try:
            response = await _send(http, request)
        except httpx.HTTPError:
            rec.errors += 1
            return
        done = time.monotonic()
        rec.add(Outcome(due, done, response.status_code, request.get("tag", "")))
        if spec.get("keep_records"):  # every answer, late ones too
            records.append(
                {
                    "tag": request.get("tag", ""),
                    "status": response.status_code,
                    "sent_at": wall,
                    "answered_at": wall + (done - due),
                }
            )

    start = time.monotonic()
    for n in itertools.count():
        due = start + n * interval
        if due >= rec.window_end:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.create_task(one(next(requests), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=spec.get("drain", 30.0))


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=spec.get("connections", 256), max_keepalive_connections=256
    )
    cpu_before = time.process_time()
    async with httpx.AsyncClient(
        base_url=spec["url"], timeout=spec.get("timeout", 60.0), limits=limits
    ) as http:
        begin = time.monotonic()
        rec = Recorder(
            begin + spec.get("warmup", 0.0),
            begin + spec.get("warmup", 0.0) + spec["duration"],
        )
        if spec["mode"] == "closed":
            await _closed(spec, http, rec)
        else:
            await _open(spec, http, rec)
    latencies = [(o.finished - o.started) * 1000 for o in rec.outcomes]
    statuses: dict[str, int] = {}
    for outcome in rec.outcomes:
        statuses[str(outcome.status)] = statuses.get(str(outcome.status), 0) + 1
    return {
        "completed": len(rec.outcomes),
        "answered": rec.answered,
        "seconds": spec["duration"],
        "throughput": len(rec.outcomes) / spec["duration"],
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "statuses": statuses,
        "errors": rec.errors,
        "cpu_seconds": time.process_time() - cpu_before,
        "records": spec.get("_records", []),
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        result = uvloop.run(run(spec))
    except ImportError:
        result = asyncio.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
