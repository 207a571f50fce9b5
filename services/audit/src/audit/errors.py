"""The audit service's own errors; adapters' failures are translated into them."""

from asyncpg import PostgresError
from sqlalchemy import exc as sa_exc


class AuditError(Exception):
    """Base of the audit service's errors."""


class StoreUnavailable(AuditError):
    """The audit database does not answer (down, restarting, pool exhausted)."""


# What the database drivers raise when the store is away or saturated. A
# server refusing new connections (not accepting them, starting up, too many)
# fails in the pool's connect with the driver's PostgresError, unwrapped.
STORE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    OSError,
    PostgresError,
)
