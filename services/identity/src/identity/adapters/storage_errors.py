"""Database failures as the service's own error, so the edge can answer 503."""

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

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
        except (DBAPIError, PoolTimeout, ConnectionError) as exc:
            raise StorageUnavailable(type(exc).__name__) from exc

    return translated
