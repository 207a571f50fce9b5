"""Alembic environment of the identity service."""

from identity.adapters.tables import metadata
from shared.database import run_alembic_env

run_alembic_env(metadata)
