"""Fixtures of the reliability tests: services as the other areas' tests run them.

The identity and audit harnesses of ``tests/identity`` and ``tests/audit``
are reused as they are; what is added here is what attacks and faults need.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from identity.cli import MIGRATIONS as IDENTITY_MIGRATIONS
from identity.settings import IdentitySettings
from shared import database
from shared.sealing import TokenSealer
from tests.identity.conftest import Identity, running, settings_for


@pytest.fixture
async def identity_settings(database_url: str, tmp_path: Path) -> IdentitySettings:
    """Identity on a fresh, migrated database (SQLite, then PostgreSQL), with
    cheap hashing, no rate limit and no relay, as tests/identity runs it."""
    settings = settings_for(database_url, tmp_path / "data")
    await database.upgrade(IDENTITY_MIGRATIONS, settings.database_url)
    return settings


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[Identity]:
    """The identity app in process over ASGI, as tests/identity runs it."""
    async with running(identity_settings) as service:
        yield service


@pytest.fixture(scope="session")
def sealer() -> TokenSealer:
    return TokenSealer([TokenSealer.generate_key()])
