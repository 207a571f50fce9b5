"""Database failures as the service's own error, so the edge can answer 503."""

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from asyncpg import PostgresError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from identity.domain.errors import IdentityError

P = ParamSpec("P")
R = TypeVar("R")


class StorageUnavailable(IdentityError):
    """The database cannot be reached, or no connection was free in time."""


def storage_call(
    function: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Translate the driver's connection failures; constraint violations pass."""

    @functools.wraps(function)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await function(*args, **kwargs)
        except IntegrityError:
            raise
        # A server that refuses new connections (not accepting them, starting
        # up, too many) fails inside the pool's connect, unwrapped by SQLAlchemy.
        except (DBAPIError, PoolTimeout, ConnectionError, PostgresError) as exc:
            raise StorageUnavailable(type(exc).__name__) from exc

    return translated
