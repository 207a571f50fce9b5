"""One demo run: check the stack, play the scenes, read back what the audit saw."""

import asyncio
import random
import uuid

import httpx
from rich.console import Console

from devstack.demo.audit import AuditReader
from devstack.demo.client import IdentityClient
from devstack.demo.errors import ServiceUnavailable
from devstack.demo.mailbox import MailboxReader
from devstack.demo.options import DemoOptions
from devstack.demo.pacing import Pacer
from devstack.demo.people import cast, leaked_addresses
from devstack.demo.progress import DemoProgress
from devstack.demo.report import DemoReport
from devstack.demo.scenes import (
    Crowd,
    lock_out,
    mixed_traffic,
    onboard,
    reset_password,
    stuff_credentials,
)
from devstack.demo.tally import Tally

MIXED_TRAFFIC_WORKERS = 3


async def run_demo(options: DemoOptions, console: Console) -> DemoReport:
    """Raise :class:`DemoError` (a service down, an answer off contract)."""
    seed = options.seed
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    loop = asyncio.get_running_loop()
    started_at = loop.time()
    async with httpx.AsyncClient(
        timeout=options.request_timeout, trust_env=False
    ) as http:
        await check_stack(http, options)
        tally = Tally()
        crowd = Crowd(
            users=IdentityClient(
                http,
                options.identity_url,
                tally,
                pacer=Pacer(options.rate),
                longest_wait=options.longest_retry_after,
            ),
            attacker=IdentityClient(
                http,
                options.identity_url,
                tally,
                pacer=None,
                longest_wait=options.longest_retry_after,
            ),
            mailbox=MailboxReader(http, options.mailbox_url, options.mail_timeout),
            rng=random.Random(seed),
            tally=tally,
            started_at=started_at,
        )
        console.print(
            f"authtrail demo: {options.users} users, {options.rate:g} requests/s, "
            f"{options.duration:g} s of mixed traffic, seed {seed}; "
            f"identity {options.identity_url}"
        )
        progress = DemoProgress(console, tally, options.users, options.duration)
        async with progress.shown():
            await _play(crowd, options, progress)
        report = await _read_back(
            AuditReader(http, options.audit_url), crowd, options, seed
        )
    return report


async def check_stack(http: httpx.AsyncClient, options: DemoOptions) -> None:
    """Raise :class:`ServiceUnavailable` naming every service that does not answer."""
    services = {
        "identity": options.identity_url,
        "audit": options.audit_url,
        "dev mailbox": options.mailbox_url,
    }
    down = []
    for name, url in services.items():
        health = f"{url.rstrip('/')}/healthz"
        try:
            status = (await http.get(health)).status_code
        except httpx.TransportError as error:
            down.append(f"{name} at {health} ({type(error).__name__})")
            continue
        if status != 200:
            down.append(f"{name} at {health} (HTTP {status})")
    if down:
        raise ServiceUnavailable(
            "the stack is not up: no answer from "
            + ", ".join(down)
            + ". Start it with `make run` in another terminal, wait for "
            "'authtrail is up', then run `make demo`."
        )


async def _play(crowd: Crowd, options: DemoOptions, progress: DemoProgress) -> None:
    tag = uuid.uuid4().hex[:6]
    people = cast(crowd.rng, options.users, tag)
    victim, others = people[-1], people[:-1]

    progress.scene("registering, verifying, first logins")

    async def arrive(index: int) -> None:
        await onboard(crowd, people[index], impatient=index % 4 == 1)
        progress.onboarded()

    await asyncio.gather(*(arrive(index) for index in range(len(people))))

    progress.scene("credential stuffing from one address")
    leaked_count = max(options.stuffing_attempts - len(others), 0)
    targets = [p.email for p in others] + leaked_addresses(crowd.rng, leaked_count, tag)
    crowd.rng.shuffle(targets)
    await stuff_credentials(crowd, targets)
    progress.scene_done()

    progress.scene(f"locking {victim.email}")
    await lock_out(crowd, victim)
    progress.scene_done()
    progress.scene(f"password reset of {victim.email}")
    await reset_password(crowd, victim)
    progress.scene_done()

    progress.scene("mixed traffic")
    loop = asyncio.get_running_loop()
    mixed_started = loop.time()
    traffic = asyncio.create_task(
        mixed_traffic(crowd, people, options.duration, MIXED_TRAFFIC_WORKERS)
    )
    while not traffic.done():
        progress.traffic(min(loop.time() - mixed_started, options.duration))
        await asyncio.wait({traffic}, timeout=0.5)
    traffic.result()
    progress.traffic(options.duration)


async def _read_back(
    audit: AuditReader, crowd: Crowd, options: DemoOptions, seed: int
) -> DemoReport:
    if crowd.last_event is not None:
        email, event_type = crowd.last_event
        await audit.wait_for_event(
            options.audit_timeout, email=email, event_type=event_type
        )
    login = await audit.wait_for_event(
        options.audit_timeout, event_type="login_success"
    )
    trace_id = login.get("trace_id") if login else None
    loop = asyncio.get_running_loop()
    return DemoReport(
        seed=seed,
        users=options.users,
        elapsed=loop.time() - crowd.started_at,
        first_login_after=crowd.first_login_after,
        tally=crowd.tally,
        summary=await audit.summary("1h"),
        active_alerts=await audit.alerts("active"),
        pending_alerts=await audit.alerts("pending"),
        login_trace_id=trace_id,
        trace_url=(
            f"{options.jaeger_ui_url.rstrip('/')}/trace/{trace_id}"
            if trace_id
            else None
        ),
        client_ip=login.get("ip") if login else None,
    )
