"""Hostile input generated from the OpenAPI: no 5xx, nothing undocumented.

schemathesis sends each operation of identity and audit 25 valid and 25
invalid requests (derandomized), each to the service on SQLite and on
PostgreSQL. Every answer must be a documented status with its documented
media type, body and headers; invalid input must be refused with a 4xx;
nothing may answer 5xx but the readiness probe, whose 503 is its job when
the broker is away (as it is here).
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.app import create_app as create_audit
from identity.app import create_app as create_identity
from identity.cli import MIGRATIONS
from shared import database
from tests.audit.conftest import Store, audit_settings, migrated_store
from tests.audit.stream import Account, reset_token_failed
from tests.identity.conftest import settings_for
from tests.reliability.openapi_fuzzing import MAX_EXAMPLES, fuzz

READINESS = frozenset({"GET /readyz"})

pytestmark = pytest.mark.postgres


async def test_identity_answers_every_generated_request_as_documented(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    apps = []
    for url in (sqlite_url, postgres_url):
        await database.upgrade(MIGRATIONS, url)
        apps.append(create_identity(settings_for(url, tmp_path / "data")))

    report = await asyncio.to_thread(fuzz, apps, may_answer_5xx=READINESS)

    assert {"POST /v1/users", "POST /v1/auth/token", "GET /v1/users/me"} <= set(
        report.operations
    )
    assert len(report.operations) >= 15
    assert report.cases >= len(report.operations) * MAX_EXAMPLES // 2
    assert report.failures == [], "\n\n".join(report.failures)


@pytest.fixture
async def audit_stores(
    sqlite_url: str, postgres_url: str
) -> AsyncIterator[list[Store]]:
    """Both audit stores, holding an hour of one user's and one attacker's events."""
    now = datetime.now(UTC)
    ada, bob = Account("ada@example.com"), Account("bob@example.com")
    events = [
        ada.registered(now - timedelta(minutes=30)),
        ada.email_sent(now - timedelta(minutes=29)),
        ada.verified(now - timedelta(minutes=28)),
        ada.logged_in(now - timedelta(minutes=20)),
        *(bob.login_failed(now - timedelta(minutes=9 - i)) for i in range(5)),
        bob.locked(now - timedelta(minutes=4)),
        reset_token_failed(now - timedelta(minutes=1), "192.0.2.9"),
    ]
    async with (
        migrated_store(sqlite_url) as on_sqlite,
        migrated_store(postgres_url) as on_postgres,
    ):
        for store in (on_sqlite, on_postgres):
            await store.project(events)
        yield [on_sqlite, on_postgres]


async def test_audit_answers_every_generated_request_as_documented(
    audit_stores: list[Store],
) -> None:
    apps = [
        create_audit(audit_settings(store.url), background=False)
        for store in audit_stores
    ]

    report = await asyncio.to_thread(fuzz, apps, may_answer_5xx=READINESS)

    assert {"GET /v1/events", "GET /v1/metrics/summary", "GET /dashboard"} <= set(
        report.operations
    )
    assert report.cases >= len(report.operations) * MAX_EXAMPLES // 2
    assert report.failures == [], "\n\n".join(report.failures)
