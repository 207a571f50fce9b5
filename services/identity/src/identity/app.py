"""The identity app factory: resources opened in the lifespan, routes attached."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from identity import __version__
from identity.adapters.access_tokens import AccessTokens, KeyRing
from identity.adapters.directory import Directory
from identity.adapters.event_store import EventStore
from identity.adapters.hashing import Argon2Parameters, PasswordHasher
from identity.adapters.outbox_relay import OutboxRelay, RelayOptions
from identity.adapters.write_gate import WriteGate
from identity.application.dependencies import Dependencies, Lifetimes, utc_now
from identity.application.passwords import Passwords
from identity.application.recording import Recorder
from identity.application.registration import Registration
from identity.application.sessions import Sessions
from identity.http.body_limit import BodyLimit
from identity.http.client_address import ClientAddress
from identity.http.problems import install_identity_problems
from identity.http.rate_limit import RateLimiter
from identity.http.routers import auth, keys, pages, passwords, users
from identity.http.runtime import Runtime
from identity.http.trace_context import IncomingTraceContext
from identity.settings import IdentitySettings
from shared.database import create_engine, ping
from shared.http import health_router, install_problem_handlers
from shared.http.health import broker_check
from shared.instrumentation import instrument_app, instrument_engine
from shared.sealing import sealer_from_settings

DESCRIPTION = """
Registration, email verification, login, lockout and password reset.

Every error is `application/problem+json` whose `type` ends in a stable code.
Every action, successful or not, is also an auth event on Kafka.
"""


def relay_options(settings: IdentitySettings) -> RelayOptions:
    return RelayOptions(
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        lease=timedelta(seconds=settings.relay_lease_seconds),
        send_timeout=timedelta(seconds=settings.relay_send_timeout_seconds),
        max_backoff_seconds=settings.relay_max_backoff_seconds,
        retention=timedelta(hours=settings.outbox_retention_hours),
    )


def load_key_ring(settings: IdentitySettings) -> KeyRing:
    assert settings.jwt_signing_key_file is not None
    pem = settings.jwt_signing_key
    return KeyRing.load(
        pem.get_secret_value().encode() if pem else None,
        settings.jwt_signing_key_file,
        settings.jwt_verification_key_files,
    )


def create_app(
    settings: IdentitySettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """The app; ``clock`` is the time the domain decides at (tests move it)."""
    settings = settings or IdentitySettings()
    engine = create_engine(settings.database_url, pool_name="identity")
    instrument_engine(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hasher = PasswordHasher(
            Argon2Parameters(
                settings.argon2_memory_kib,
                settings.argon2_time_cost,
                settings.argon2_parallelism,
            ),
            settings.hashing_pool_size,
            settings.hashing_niceness,
        )
        gate = WriteGate(engine)
        relay = OutboxRelay(engine, settings, relay_options(settings), gate=gate)
        relay_task = None
        try:
            await hasher.start()
            app.state.runtime = await _runtime(
                settings, EventStore(engine, gate), engine, hasher, relay, clock
            )
            app.state.relay = relay
            if settings.relay_enabled:
                relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
            yield
        finally:
            if relay_task is not None:
                relay_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay_task
            hasher.close()
            await engine.dispose()

    app = FastAPI(
        title="authtrail identity",
        version=__version__,
        description=DESCRIPTION,
        servers=[{"url": settings.public_url}],
        lifespan=lifespan,
    )
    app.state.engine = engine
    install_problem_handlers(app)
    install_identity_problems(app)
    app.add_middleware(IncomingTraceContext)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for module in (users, auth, passwords, keys, pages):
        app.include_router(module.router)
    app.include_router(
        health_router(
            {
                "database": lambda: ping(engine),
                "broker": broker_check(settings.kafka_bootstrap_servers),
            }
        )
    )
    instrument_app(app)
    return app


async def _runtime(
    settings: IdentitySettings,
    store: EventStore,
    engine: AsyncEngine,
    hasher: PasswordHasher,
    relay: OutboxRelay,
    clock: Callable[[], datetime],
) -> Runtime:
    keys = await asyncio.to_thread(load_key_ring, settings)
    sealer = await asyncio.to_thread(sealer_from_settings, settings)
    deps = Dependencies(
        store=store,
        directory=Directory(engine),
        hasher=hasher,
        tokens=AccessTokens(
            keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        ),
        sealer=sealer,
        recorder=Recorder(store, relay.wake),
        lockout_policy=settings.lockout_policy,
        lifetimes=Lifetimes(
            verification=timedelta(seconds=settings.verification_token_ttl_seconds),
            reset=timedelta(seconds=settings.reset_token_ttl_seconds),
        ),
        clock=clock,
    )
    return Runtime(
        registration=Registration(deps),
        sessions=Sessions(deps),
        passwords=Passwords(deps),
        keys=keys,
        limiter=RateLimiter(
            settings.rate_limit_per_minute,
            settings.rate_limit_burst,
            enabled=settings.rate_limit_enabled,
        ),
        client_address=ClientAddress(settings.trusted_proxies),
        access_token_ttl_seconds=settings.access_token_ttl_seconds,
        uniform_answer_seconds=settings.uniform_answer_seconds,
    )
