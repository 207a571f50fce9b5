"""Benchmark 3: identity beside a minimal fastapi-users application.

Both run under uvicorn, one process each, with the same argon2id parameters,
on the same kind of database (a SQLite file; PostgreSQL where it answers),
loaded by the same generator with the same OAuth2 password form, in
alternating runs. Both processes stay up for the whole comparison; only one
is loaded at a time.
"""

import asyncio
from typing import Any

from bench.accounts import PASSWORD, login_requests, register_and_verify
from bench.identity import start_identity
from bench.lab import Lab
from bench.login import health_probe_spec, login_spec
from bench.peer_env import ensure_peer_environment
from bench.processes import Service, clean_environment
from bench.results import Goal, Section, Table
from bench.stats import median, rounded
from devstack.broker import free_port

LEVEL = 8
PEER_GOAL = 1.0


async def start_peer(lab: Lab, kind: str, emails: list[str]) -> Service:
    python = await asyncio.to_thread(ensure_peer_environment)
    port = free_port()
    env = clean_environment() | {
        "PEER_DATABASE_URL": await lab.databases.url(kind, "peer"),
        "PEER_SEED_EMAILS": ",".join(emails),
        "PEER_SEED_PASSWORD": PASSWORD,
    }
    service = Service(
        f"peer-{kind}",
        [str(python), "-m", "bench.peer.serve", str(port)],
        env,
        lab.log(f"peer-{kind}"),
        f"http://127.0.0.1:{port}/healthz",
    )
    return await service.start()


async def _one(
    lab: Lab, service: Service, url: str, requests: list[Any]
) -> dict[str, Any]:
    cpu = service.cpu_seconds()
    login, health = await asyncio.gather(
        lab.load(login_spec(lab, url, requests, LEVEL), "peer-login"),
        lab.load(health_probe_spec(lab, url), "peer-health"),
    )
    login["cpu_ms_per_login"] = (
        1000 * (service.cpu_seconds() - cpu) / max(1, login["answered"])
    )
    login["health"] = health
    return dict(login)


async def peer_benchmark(lab: Lab) -> list[Section]:
    section = Section(
        "peer",
        "3. Identity beside a fastapi-users peer",
        "python -m bench --only peer",
    )
    kinds = ["sqlite"] if lab.options.quick else lab.databases.kinds
    for kind in kinds:
        await _on_database(lab, kind, section)
    section.method = [
        "Peer: bench/peer/app.py, fastapi-users 15 with its SQLAlchemy adapter, "
        "installed only in bench/.venv-peer from bench/peer/requirements.txt. "
        "pwdlib's Argon2Hasher with memory_cost=19456, time_cost=2, "
        "parallelism=1 (identity's defaults); EdDSA JWTs; SQLite file with "
        "the same pragmas as identity (WAL, synchronous=NORMAL), or a "
        "database on the same PostgreSQL server; uvicorn with the options of "
        "shared/serving.py, one worker, uvloop and httptools in both.",
        "Both answer the same OAuth2 password form (username, password): "
        "POST /v1/auth/token on identity, POST /auth/jwt/login on the peer; "
        f"{LEVEL} closed-loop workers over 64 verified accounts each; runs "
        "alternate identity/peer; a GET /healthz probe at 50/s runs beside "
        "each.",
        "Not the same work: identity also records a login_success event, its "
        "read models and an outbox row in one transaction per login and "
        "publishes the event to the broker; the peer only reads the user. "
        "fastapi-users verifies the password on the event loop (its "
        "PasswordHelper is synchronous), so it hashes on one core.",
    ]
    return [section]


async def _on_database(lab: Lab, kind: str, section: Section) -> None:
    database_url = await lab.databases.url(kind, "peer-identity")
    identity = await start_identity(
        lab.work_dir, f"identity-peer-{kind}", database_url, await lab.broker()
    )
    peer: Service | None = None
    try:
        count = 16 if lab.options.quick else 64
        accounts = await register_and_verify(
            identity.url, database_url, identity.sealer, count, "peer"
        )
        peer = await start_peer(lab, kind, [a.email for a in accounts])
        peer_url = (peer.health_url or "").removesuffix("/healthz")
        ours = login_requests(accounts, form=True)
        theirs = login_requests(accounts, form=True, path="/auth/jwt/login")
        results: dict[str, list[dict[str, Any]]] = {"identity": [], "peer": []}
        for run in range(lab.options.runs):
            order = ["identity", "peer"] if run % 2 == 0 else ["peer", "identity"]
            for name in order:
                if name == "identity":
                    results[name].append(
                        await _one(lab, identity.service, identity.url, ours)
                    )
                else:
                    results[name].append(await _one(lab, peer, peer_url, theirs))
    finally:
        if peer is not None:
            await peer.stop()
        await identity.service.stop()
    _report(lab, kind, results, section)


def _report(
    lab: Lab, kind: str, results: dict[str, list[dict[str, Any]]], section: Section
) -> None:
    def med(name: str, key: str) -> float:
        return median([float(r[key]) for r in results[name]])

    def health(name: str) -> float:
        return median([float(r["health"]["p99_ms"]) for r in results[name]])

    rows = [
        [
            name,
            rounded(med(name, "throughput")),
            rounded(med(name, "p50_ms")),
            rounded(med(name, "p99_ms")),
            rounded(med(name, "cpu_ms_per_login"), 1),
            rounded(health(name)),
            ", ".join(
                f"{k}: {sum(int(r['statuses'].get(k, 0)) for r in results[name])}"
                for k in sorted({s for r in results[name] for s in r["statuses"]})
            ),
        ]
        for name in ("identity", "peer")
    ]
    ratios = [
        float(i["throughput"]) / max(1e-9, float(p["throughput"]))
        for i, p in zip(results["identity"], results["peer"], strict=True)
    ]
    ratio = median(ratios)
    rows.append(["identity / peer", rounded(ratio, 3), None, None, None, None, ""])
    section.tables.append(
        Table(
            f"Logins at concurrency {LEVEL}, {kind} "
            f"(medians of {lab.options.runs} runs)",
            [
                "app",
                "logins/s",
                "p50 ms",
                "p99 ms",
                "CPU ms/login",
                "healthz p99 ms",
                "statuses",
            ],
            rows,
        )
    )
    section.goals.append(
        Goal(
            f"identity logins/s vs fastapi-users ({kind})",
            f">= {PEER_GOAL}",
            f"{ratio:.3f}",
            ratio >= PEER_GOAL,
        )
    )
    section.data[kind] = results
