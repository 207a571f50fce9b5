"""Alembic environment of the notifier service."""

from shared.database import run_alembic_env

run_alembic_env(None)
