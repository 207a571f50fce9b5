"""What every endpoint shares: bounded input, problems, client address, limits."""

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from identity.adapters.tables import outbox
from identity.http.rate_limit import RateLimited, RateLimiter
from identity.settings import IdentitySettings
from shared.events import EventType, FailureReason
from tests.identity.conftest import Identity, problem_code, running, settings_for

POSTS = [
    "/v1/users",
    "/v1/users/verification",
    "/v1/users/verification/resend",
    "/v1/auth/token",
    "/v1/auth/logout",
    "/v1/password/forgot",
    "/v1/password/reset",
    "/v1/password/change",
]
JUNK: list[tuple[str, bytes]] = [
    ("application/json", b"{"),
    ("application/json", b"[1, 2]"),
    ("application/json", b'{"email": 5, "password": null, "token": {}}'),
    ("application/json", b'{"email": "' + b"a" * 5000 + b'@x.com", "password": "p"}'),
    ("application/json", b'"\\ud800"'),
    ("text/plain", b"hello"),
    ("application/x-www-form-urlencoded", b"username=%00&password="),
    ("application/json", b""),
]


@pytest.mark.parametrize("path", POSTS)
async def test_junk_input_is_a_4xx_problem_never_a_500(
    identity: Identity, path: str
) -> None:
    for content_type, body in JUNK:
        answer = await identity.http.post(
            path, content=body, headers={"Content-Type": content_type}
        )
        assert 400 <= answer.status_code < 500, (content_type, body[:40], answer.text)
        problem_code(answer)


async def test_a_body_over_the_limit_is_413(identity: Identity) -> None:
    big = b'{"email": "ada@example.com", "password": "' + b"x" * 20_000 + b'"}'

    declared = await identity.http.post(
        "/v1/users", content=big, headers={"Content-Type": "application/json"}
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = await identity.http.post(
        "/v1/users", content=chunks(), headers={"Content-Type": "application/json"}
    )

    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert problem_code(answer) == "payload_too_large"
    assert await identity.envelopes() == []


@pytest.fixture
async def behind_proxy(identity_settings: IdentitySettings) -> AsyncIterator[Identity]:
    """The service behind a reverse proxy at 10.0.0.2 (the socket's peer)."""
    settings = identity_settings.model_copy(
        update={
            "trusted_proxies": IdentitySettings(
                trusted_proxies="10.0.0.0/24"
            ).trusted_proxies
        }
    )
    async with running(settings, client_ip="10.0.0.2") as service:
        yield service


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    identity: Identity, behind_proxy: Identity
) -> None:
    spoofed = {"X-Forwarded-For": "192.0.2.66"}
    await identity.http.post(
        "/v1/password/forgot", json={"email": "a@example.com"}, headers=spoofed
    )
    forwarded = {"X-Forwarded-For": "192.0.2.66, 198.51.100.20, 10.0.0.3"}
    await behind_proxy.http.post(
        "/v1/password/forgot", json={"email": "b@example.com"}, headers=forwarded
    )
    await behind_proxy.http.post("/v1/password/forgot", json={"email": "c@example.com"})

    ips = [e.ip for e in await identity.envelopes()]

    assert ips == ["203.0.113.7", "198.51.100.20", "10.0.0.2"]


@pytest.fixture
async def rate_limited(identity_settings: IdentitySettings) -> AsyncIterator[Identity]:
    settings = identity_settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_burst": 3,
            "rate_limit_per_minute": 6,
        }
    )
    async with running(settings) as service:
        yield service


async def test_each_client_has_a_request_budget_on_the_auth_endpoints(
    rate_limited: Identity,
) -> None:
    service = rate_limited
    statuses = [
        (await service.log_in("ada@example.com", "wrong horse battery")).status_code
        for _ in range(4)
    ]
    forgot = await service.http.post(
        "/v1/password/forgot", json={"email": "a@example.com"}
    )
    last = await service.log_in("ada@example.com", "wrong horse battery")

    assert statuses == [401, 401, 401, 429]
    assert forgot.status_code == 429
    assert problem_code(last) == "rate_limited"
    assert 1 <= int(last.headers["Retry-After"]) <= 10
    limited = await service.last(EventType.LOGIN_FAILED)
    assert (limited.reason, limited.email) == (
        FailureReason.RATE_LIMITED,
        "ada@example.com",
    )
    assert (await service.http.get("/healthz")).status_code == 200


async def test_every_auth_event_is_also_one_log_record(
    identity: Identity, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="identity")
    await identity.register_verified("ada@example.com")
    await identity.log_in("ada@example.com", "wrong horse battery")

    records = [r for r in caplog.records if r.getMessage().startswith("auth.")]
    by_type = {r.getMessage(): r for r in records}

    assert [r.getMessage() for r in records] == [
        "auth.registration_success",
        "auth.email_verified",
        "auth.login_failed",
    ]
    failed = by_type["auth.login_failed"]
    assert failed.levelno == logging.WARNING
    assert by_type["auth.email_verified"].levelno == logging.INFO
    for field in ("event_type", "user_id", "email", "ip", "user_agent", "reason"):
        assert hasattr(failed, field)
    assert (failed.email, failed.reason, failed.ip) == (  # type: ignore[attr-defined]
        "ada@example.com",
        "invalid_password",
        "203.0.113.7",
    )
    assert "correct horse battery" not in caplog.text
    assert "$argon2" not in caplog.text


async def test_the_callers_trace_context_travels_with_its_events(
    identity: Identity,
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    await identity.http.post(
        "/v1/password/forgot",
        json={"email": "a@example.com"},
        headers={"traceparent": traceparent},
    )

    engine = identity.app.state.engine
    async with engine.connect() as conn:
        stored = await conn.scalar(select(outbox.c.headers))
    headers = dict(json.loads(stored))

    assert headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert headers["event_type"] == "password_reset_failed"
    assert headers["content-type"] == "application/json"
    assert headers["event_id"] == str((await identity.envelopes())[0].event_id)


async def test_health_and_readiness_name_the_failing_dependency(
    identity: Identity,
) -> None:
    assert (await identity.http.get("/healthz")).json() == {"status": "ok"}

    ready = await identity.http.get("/readyz")  # the broker address points nowhere

    assert ready.status_code == 503
    assert ready.json()["failing"].keys() == {"broker"}


async def test_the_openapi_documents_examples_and_every_error(
    identity: Identity,
) -> None:
    spec = (await identity.http.get("/openapi.json")).json()
    login = spec["paths"]["/v1/auth/token"]["post"]

    assert {"200", "401", "403", "422", "423", "429"} <= login["responses"].keys()
    assert "application/x-www-form-urlencoded" in login["requestBody"]["content"]
    locked = login["responses"]["423"]
    assert "Retry-After" in locked["headers"]
    assert "account_locked" in locked["content"]["application/problem+json"]["examples"]
    register = spec["paths"]["/v1/users"]["post"]
    assert "202" in register["responses"] and "422" in register["responses"]
    assert (await identity.http.get("/docs")).status_code == 200


def test_a_flood_of_refusals_is_recorded_once_a_second() -> None:
    now = [0.0]
    limiter = RateLimiter(6, 1, clock=lambda: now[0])
    limiter.take("a")
    refusals = []
    for _ in range(5):
        with pytest.raises(RateLimited) as refused:
            limiter.take("a")
        refusals.append(refused.value.worth_recording)
        now[0] += 0.3
    limiter.take("b")  # another client has its own budget

    assert refusals == [True, False, False, False, True]


async def test_an_unreachable_database_is_a_503_problem(tmp_path: Path) -> None:
    settings = settings_for("postgresql+asyncpg://postgres@127.0.0.1:9/none", tmp_path)
    async with running(settings) as service:
        answer = await service.http.post(
            "/v1/password/forgot", json={"email": "ada@example.com"}
        )
        ready = await service.http.get("/readyz")

    assert answer.status_code == 503
    assert problem_code(answer) == "service_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert "database" in ready.json()["failing"]
