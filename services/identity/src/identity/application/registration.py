"""Registration and email verification."""

from uuid import UUID, uuid4

from opentelemetry import trace

from identity.application.accounts import check_password_policy, load_user, parse_email
from identity.application.context import RequestContext
from identity.application.dependencies import Dependencies
from identity.application.errors import InvalidInput, InvalidOrExpiredToken
from identity.application.recording import until_appended
from identity.application.single_use_tokens import hash_token, new_token
from identity.application.streams import StreamRef
from identity.domain import user as users
from identity.domain.emails import EmailAddress
from identity.domain.events import (
    EmailVerificationFailed,
    EmailVerified,
    IssuedToken,
    RegistrationRefused,
    TokenKind,
    VerificationResendRefused,
)
from shared.events import FailureReason

tracer = trace.get_tracer(__name__)


class Registration:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    async def register(
        self, raw_email: str, password: str, context: RequestContext
    ) -> None:
        """Answers the same whether the address is new or taken: the events differ."""
        with tracer.start_as_current_span("auth.register"):
            email = await self._valid_registration(raw_email, password, context)
            password_hash = await self._deps.hasher.hash(password)
            raw_token, token_hash = new_token()
            sealed = {token_hash: self._deps.sealer.seal(raw_token)}

            async def attempt() -> None:
                now = self._deps.clock()
                holder = await self._deps.directory.user_holding(email.canonical)
                if holder is not None:
                    user = await load_user(self._deps.store, holder.user_id)
                    await self._deps.recorder.record(
                        StreamRef.of_user(user),
                        user.refuse_registration(),
                        now=now,
                        context=context,
                    )
                    return
                user_id = uuid4()
                expires_at = now + self._deps.lifetimes.verification
                events = users.register(
                    user_id, email, password_hash, IssuedToken(token_hash, expires_at)
                )
                await self._deps.recorder.record(
                    StreamRef.new_user(user_id, email.address),
                    events,
                    now=now,
                    context=context,
                    sealed=sealed,
                )

            await until_appended(attempt)

    async def _valid_registration(
        self, raw_email: str, password: str, context: RequestContext
    ) -> EmailAddress:
        email: EmailAddress | None = None
        try:
            email = parse_email(raw_email)
            check_password_policy(password, email)
        except InvalidInput:
            await self._deps.recorder.record(
                StreamRef.unattached(email.address if email else None),
                [RegistrationRefused(FailureReason.VALIDATION_ERROR)],
                now=self._deps.clock(),
                context=context,
            )
            raise
        return email

    async def verify(self, raw_token: str, context: RequestContext) -> UUID:
        """The user whose address the token verified."""
        with tracer.start_as_current_span("auth.verify_email"):
            token_hash = hash_token(raw_token)
            holder = await self._deps.directory.token_holder(
                token_hash, TokenKind.VERIFICATION
            )
            if holder is None:
                await self._deps.recorder.record(
                    StreamRef.unattached(),
                    [EmailVerificationFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)],
                    now=self._deps.clock(),
                    context=context,
                )
                raise InvalidOrExpiredToken()

            async def attempt() -> bool:
                user = await load_user(self._deps.store, holder)
                now = self._deps.clock()
                events = user.verify_email(token_hash, now)
                await self._deps.recorder.record(
                    StreamRef.of_user(user), events, now=now, context=context
                )
                return isinstance(events[0], EmailVerified)

            if not await until_appended(attempt):
                raise InvalidOrExpiredToken()
            return holder

    async def resend(self, raw_email: str, context: RequestContext) -> None:
        """Answers the same for every address: the events differ."""
        with tracer.start_as_current_span("auth.resend_verification"):
            email = parse_email(raw_email)
            holder = await self._deps.directory.user_holding(email.canonical)
            if holder is None:
                await self._deps.recorder.record(
                    StreamRef.unattached(email.canonical),
                    [VerificationResendRefused(FailureReason.UNKNOWN_EMAIL)],
                    now=self._deps.clock(),
                    context=context,
                )
                return
            raw_token, token_hash = new_token()
            sealed = {token_hash: self._deps.sealer.seal(raw_token)}

            async def attempt() -> None:
                user = await load_user(self._deps.store, holder.user_id)
                now = self._deps.clock()
                token = IssuedToken(token_hash, now + self._deps.lifetimes.verification)
                await self._deps.recorder.record(
                    StreamRef.of_user(user),
                    user.resend_verification(token),
                    now=now,
                    context=context,
                    sealed=sealed,
                )

            await until_appended(attempt)
