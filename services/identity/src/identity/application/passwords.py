"""Forgotten passwords, resets and changes."""

import logging

from opentelemetry import trace

from identity.application.accounts import (
    address_of,
    check_password_policy,
    load_user,
    parse_email,
)
from identity.application.context import RequestContext
from identity.application.dependencies import Dependencies
from identity.application.errors import (
    InvalidAccessToken,
    InvalidCredentials,
    InvalidOrExpiredToken,
)
from identity.application.ports import Verification
from identity.application.recording import until_appended
from identity.application.sessions import Session
from identity.application.single_use_tokens import hash_token, new_token
from identity.application.streams import StreamRef
from identity.domain.events import (
    IssuedToken,
    PasswordReset,
    PasswordResetFailed,
    TokenKind,
)
from shared.events import FailureReason

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class Passwords:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    async def forgot(self, raw_email: str, context: RequestContext) -> None:
        """Answers the same for every address: the events differ."""
        with tracer.start_as_current_span("auth.password_forgot"):
            email = parse_email(raw_email)
            holder = await self._deps.directory.user_holding(email.canonical)
            if holder is None:
                await self._deps.recorder.record(
                    StreamRef.unattached(email.canonical),
                    [PasswordResetFailed(FailureReason.UNKNOWN_EMAIL)],
                    now=self._deps.clock(),
                    context=context,
                )
                return
            raw_token, token_hash = new_token()
            sealed = {token_hash: self._deps.sealer.seal(raw_token)}

            async def attempt() -> None:
                user = await load_user(self._deps.store, holder.user_id)
                now = self._deps.clock()
                token = IssuedToken(token_hash, now + self._deps.lifetimes.reset)
                await self._deps.recorder.record(
                    StreamRef.of_user(user),
                    user.request_password_reset(token),
                    now=now,
                    context=context,
                    sealed=sealed,
                )

            await until_appended(attempt)

    async def reset(
        self, raw_token: str, new_password: str, context: RequestContext
    ) -> None:
        with tracer.start_as_current_span("auth.password_reset"):
            token_hash = hash_token(raw_token)
            holder = await self._deps.directory.token_holder(
                token_hash, TokenKind.RESET
            )
            if holder is None:
                await self._deps.recorder.record(
                    StreamRef.unattached(),
                    [PasswordResetFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)],
                    now=self._deps.clock(),
                    context=context,
                )
                raise InvalidOrExpiredToken()
            user = await load_user(self._deps.store, holder)
            check_password_policy(new_password, address_of(user), "new_password")
            new_hash = await self._deps.hasher.hash(new_password)

            async def attempt() -> bool:
                user = await load_user(self._deps.store, holder)
                now = self._deps.clock()
                events = user.reset_password(token_hash, new_hash, now)
                await self._deps.recorder.record(
                    StreamRef.of_user(user), events, now=now, context=context
                )
                return isinstance(events[0], PasswordReset)

            if not await until_appended(attempt):
                raise InvalidOrExpiredToken()

    async def change(
        self,
        session: Session,
        current_password: str,
        new_password: str,
        context: RequestContext,
    ) -> None:
        """Every access token issued before, the caller's included, stops working."""
        with tracer.start_as_current_span("auth.password_change"):
            user_id = session.claims.user_id
            user = await load_user(self._deps.store, user_id)
            check_password_policy(new_password, address_of(user), "new_password")
            checks: dict[str, Verification] = {}

            async def current_matches(stored_hash: str) -> bool:
                if stored_hash not in checks:
                    checks[stored_hash] = await self._deps.hasher.verify(
                        current_password, stored_hash
                    )
                return checks[stored_hash].matches

            if not await current_matches(user.password_hash):
                logger.warning(
                    "auth.password_change_refused",
                    extra={"user_id": str(user_id), "ip": context.ip},
                )
                raise InvalidCredentials()
            new_hash = await self._deps.hasher.hash(new_password)

            async def attempt() -> None:
                user = await load_user(self._deps.store, user_id)
                if not user.accepts_token_generation(session.claims.generation):
                    raise InvalidAccessToken("superseded while changing")
                if not await current_matches(user.password_hash):
                    raise InvalidCredentials()
                await self._deps.recorder.record(
                    StreamRef.of_user(user),
                    user.change_password(new_hash),
                    now=self._deps.clock(),
                    context=context,
                )

            await until_appended(attempt)
