"""Alembic environment of the audit service."""

from shared.database import run_alembic_env

run_alembic_env(None)
