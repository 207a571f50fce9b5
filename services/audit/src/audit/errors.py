"""The audit service's own errors; adapters' failures are translated into them."""

from sqlalchemy import exc as sa_exc


class AuditError(Exception):
    """Base of the audit service's errors."""


class StoreUnavailable(AuditError):
    """The audit database does not answer (down, restarting, pool exhausted)."""


# What the database drivers raise when the store is away or saturated.
STORE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    OSError,
)
