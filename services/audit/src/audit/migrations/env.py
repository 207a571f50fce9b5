"""Alembic environment of the audit service."""

from audit.adapters.tables import metadata
from shared.database import run_alembic_env

run_alembic_env(metadata)
