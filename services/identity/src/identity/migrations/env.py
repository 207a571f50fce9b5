"""Alembic environment of the identity service."""

from shared.database import run_alembic_env

run_alembic_env(None)
