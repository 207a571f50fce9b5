"""Registration, verification and the caller's own profile."""

from fastapi import APIRouter, Depends, status

from identity.http.problems import documented
from identity.http.runtime import ContextDep, RuntimeDep, SessionDep, rate_limited
from identity.http.schemas import (
    Accepted,
    AddressOnly,
    Me,
    Registration,
    TokenOnly,
    VerificationPending,
    Verified,
)
from identity.http.uniform_time import uniform_time

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Register; a verification email follows",
    description="Answers 202 with the same body whether the address is new or "
    "already registered, so registration never tells which addresses exist.",
    dependencies=[Depends(rate_limited)],
    responses=documented("payload_too_large", "validation_error", "rate_limited"),
)
async def register(
    body: Registration, rt: RuntimeDep, context: ContextDep
) -> VerificationPending:
    await rt.registration.register(body.email, body.password, context)
    return VerificationPending()


@router.post(
    "/verification",
    summary="Verify the email address with the token from the email",
    dependencies=[Depends(rate_limited)],
    responses=documented(
        "invalid_or_expired_token", "validation_error", "rate_limited"
    ),
)
async def verify(body: TokenOnly, rt: RuntimeDep, context: ContextDep) -> Verified:
    user_id = await rt.registration.verify(body.token, context)
    return Verified(user_id=user_id)


@router.post(
    "/verification/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification email; older links stop working",
    description="Answers 202 whatever the address.",
    dependencies=[Depends(rate_limited)],
    responses=documented("validation_error", "rate_limited"),
)
async def resend(body: AddressOnly, rt: RuntimeDep, context: ContextDep) -> Accepted:
    async with uniform_time(rt.uniform_answer_seconds):
        await rt.registration.resend(body.email, context)
    return Accepted()


@router.get(
    "/me",
    summary="The caller's account",
    responses=documented("invalid_token"),
)
async def me(session: SessionDep) -> Me:
    profile = session.profile
    return Me(
        user_id=profile.user_id,
        email=profile.email,
        email_verified=profile.email_verified,
        created_at=profile.registered_at,
    )
