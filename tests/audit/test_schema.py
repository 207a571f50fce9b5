"""The migrations create exactly the tables the code and docs/audit.md describe."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from audit.adapters.tables import metadata
from tests.audit.conftest import Store


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection)
    return [
        diff
        for diff in compare_metadata(context, metadata)
        # Alembic cannot compare expression indexes such as lower(email).
        if not (diff[0] in ("add_index", "remove_index") and "email" in diff[1].name)
    ]


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based")
async def test_the_migrated_schema_matches_the_tables_in_code(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
