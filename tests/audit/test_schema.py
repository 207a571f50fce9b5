"""The migrations create exactly the tables the code and docs/audit.md describe."""

import pytest

from tests.audit.conftest import Store, schema_differences


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based")
async def test_the_migrated_schema_matches_the_tables_in_code(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(schema_differences) == []
