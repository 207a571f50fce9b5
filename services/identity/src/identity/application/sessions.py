"""Logging in and out, and recognising the bearer of an access token."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from opentelemetry import trace

from identity.application.accounts import load_user, parse_email
from identity.application.context import RequestContext
from identity.application.dependencies import Dependencies
from identity.application.errors import (
    AccountIsLocked,
    EmailNotVerified,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidInput,
)
from identity.application.ports import AccessClaims, AccessToken, Profile, Verification
from identity.application.recording import until_appended
from identity.application.streams import StreamRef, address_stream_id
from identity.domain.address import UnknownAddress
from identity.domain.emails import EmailAddress
from identity.domain.events import LoginFailed
from identity.domain.lockout import LoginDecision, LoginOutcome
from identity.domain.user import User
from identity.instruments import login_duration
from shared.events import FailureReason

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class Session:
    """The bearer of a valid access token."""

    claims: AccessClaims
    profile: Profile


class Sessions:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    async def log_in(
        self, raw_email: str, password: str, context: RequestContext
    ) -> AccessToken:
        """An access token, or the refusal an unknown address would get too.

        Every path spends one password verification: against the stored hash
        when there is an unlocked account, against a dummy hash otherwise.
        """
        try:
            with tracer.start_as_current_span("auth.login") as span:
                return await self._log_in(raw_email, password, context, span)
        finally:
            login_duration.record(time.perf_counter() - context.started)

    async def _log_in(
        self,
        raw_email: str,
        password: str,
        context: RequestContext,
        span: trace.Span,
    ) -> AccessToken:
        email = parse_email(raw_email)
        attempt = _LoginAttempt(self._deps, email, password, context)
        decision, user, now = await until_appended(attempt.run)
        span.set_attribute("auth.outcome", decision.outcome.value)
        match decision.outcome:
            case LoginOutcome.SUCCEEDED:
                assert user is not None
                span.set_attribute("user.id", str(user.user_id))
                return self._deps.tokens.issue(
                    user.user_id, attempt.token_id, user.token_generation, now
                )
            case LoginOutcome.LOCKED:
                raise AccountIsLocked(decision.retry_after(now))
            case LoginOutcome.EMAIL_NOT_VERIFIED:
                raise EmailNotVerified()
        raise InvalidCredentials()

    async def record_rate_limited(
        self, raw_email: str | None, context: RequestContext
    ) -> None:
        """A login refused before it was looked at, for the analysts."""
        stream = StreamRef.unattached()
        try:
            canonical = parse_email(raw_email or "").canonical
        except InvalidInput:
            canonical = None
        if canonical is not None:
            holder = await self._deps.directory.user_holding(canonical)
            stream = StreamRef.unattached(canonical)
            if holder is not None:
                stream = StreamRef.unattached(holder.email, holder.user_id)
        await self._deps.recorder.record(
            stream,
            [LoginFailed(FailureReason.RATE_LIMITED)],
            now=self._deps.clock(),
            context=context,
        )

    async def authenticate(self, bearer: str | None) -> Session:
        if not bearer:
            raise InvalidAccessToken("no bearer token")
        claims = self._deps.tokens.decode(bearer)
        return Session(claims, await self.authenticate_claims(claims))

    async def log_out(self, session: Session, context: RequestContext) -> None:
        with tracer.start_as_current_span("auth.logout"):
            claims = session.claims

            async def attempt() -> None:
                await self.authenticate_claims(claims)
                user = await load_user(self._deps.store, claims.user_id)
                await self._deps.recorder.record(
                    StreamRef.of_user(user),
                    user.log_out(claims.token_id, claims.expires_at),
                    now=self._deps.clock(),
                    context=context,
                )

            await until_appended(attempt)

    async def authenticate_claims(self, claims: AccessClaims) -> Profile:
        """Still valid: neither revoked by a logout nor superseded by a password
        reset or change."""
        profile = await self._deps.directory.session(claims.user_id, claims.token_id)
        if profile is None or profile.token_generation != claims.generation:
            raise InvalidAccessToken("revoked or superseded")
        return profile


class _LoginAttempt:
    """One login, decided again from fresh state after every conflict.

    A password verification is reused across retries while the stored hash
    is the same, and the dummy verification is spent once.
    """

    def __init__(
        self,
        deps: Dependencies,
        email: EmailAddress,
        password: str,
        context: RequestContext,
    ) -> None:
        self._deps = deps
        self._email = email
        self._password = password
        self._context = context
        self._checks: dict[str, Verification] = {}
        self._spent = False
        self.token_id = uuid4().hex

    async def run(self) -> tuple[LoginDecision, User | None, datetime]:
        deps = self._deps
        target = await self._target()
        now = deps.clock()
        if isinstance(target, User) and not target.lockout.is_locked(now):
            check = await self._verify(target.password_hash)
            decision = target.log_in(
                password_matches=check.matches,
                now=now,
                policy=deps.lockout_policy,
                token_id=self.token_id,
                rehashed_password_hash=check.new_hash,
            )
            stream = StreamRef.of_user(target)
        else:
            await self._spend()
            if isinstance(target, User):
                decision = target.log_in(
                    password_matches=False,
                    now=now,
                    policy=deps.lockout_policy,
                    token_id=self.token_id,
                )
                stream = StreamRef.of_user(target)
            else:
                decision = target.log_in(now, deps.lockout_policy)
                stream = StreamRef.of_address(target)
        await deps.recorder.record(
            stream, decision.events, now=now, context=self._context
        )
        return decision, target if isinstance(target, User) else None, now

    async def _target(self) -> User | UnknownAddress:
        holder = await self._deps.directory.user_holding(self._email.canonical)
        if holder is not None:
            return await load_user(self._deps.store, holder.user_id)
        canonical = self._email.canonical
        history = await self._deps.store.load(address_stream_id(canonical))
        return UnknownAddress.fold(canonical, history)

    async def _verify(self, stored_hash: str) -> Verification:
        if stored_hash not in self._checks:
            self._checks[stored_hash] = await self._deps.hasher.verify(
                self._password, stored_hash
            )
        return self._checks[stored_hash]

    async def _spend(self) -> None:
        if not self._spent:
            await self._deps.hasher.spend_verification(self._password)
            self._spent = True
