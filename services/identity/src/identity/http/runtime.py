"""What the routes reach through ``app.state``: built once in the lifespan."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from identity.adapters.access_tokens import KeyRing
from identity.application.context import RequestContext
from identity.application.errors import InvalidAccessToken
from identity.application.passwords import Passwords
from identity.application.registration import Registration
from identity.application.sessions import Session, Sessions
from identity.http.client_address import ClientAddress
from identity.http.rate_limit import RateLimiter
from shared.instrumentation import set_authenticated_user


@dataclass(frozen=True)
class Runtime:
    registration: Registration
    sessions: Sessions
    passwords: Passwords
    keys: KeyRing
    limiter: RateLimiter
    client_address: ClientAddress
    access_token_ttl_seconds: int
    uniform_answer_seconds: float


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def request_context(request: Request, rt: RuntimeDep) -> RequestContext:
    return RequestContext(
        ip=rt.client_address.of(request),
        user_agent=request.headers.get("user-agent"),
    )


ContextDep = Annotated[RequestContext, Depends(request_context)]


def rate_limited(context: ContextDep, rt: RuntimeDep) -> None:
    """The per-client budget of the auth endpoints."""
    rt.limiter.take(context.ip)


bearer_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def current_session(
    rt: RuntimeDep, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Session:
    if token is None:
        raise InvalidAccessToken("no bearer token")
    session = await rt.sessions.authenticate(token)
    set_authenticated_user(str(session.claims.user_id))
    return session


SessionDep = Annotated[Session, Depends(current_session)]
