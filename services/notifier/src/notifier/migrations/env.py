"""Alembic environment of the notifier service."""

from notifier.ledger import metadata
from shared.database import run_alembic_env

run_alembic_env(metadata)
