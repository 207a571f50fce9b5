"""Forgotten passwords, resets and changes."""

from fastapi import APIRouter, Depends, status

from identity.http.problems import documented
from identity.http.runtime import ContextDep, RuntimeDep, SessionDep, rate_limited
from identity.http.schemas import (
    Accepted,
    AddressOnly,
    PasswordChange,
    PasswordReset,
    PasswordWasChanged,
    PasswordWasReset,
)
from identity.http.uniform_time import uniform_time

router = APIRouter(prefix="/v1/password", tags=["password"])


@router.post(
    "/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a reset link (valid 1 hour); older links stop working",
    description="Answers 202 whatever the address.",
    dependencies=[Depends(rate_limited)],
    responses=documented("validation_error", "rate_limited"),
)
async def forgot(body: AddressOnly, rt: RuntimeDep, context: ContextDep) -> Accepted:
    async with uniform_time(rt.uniform_answer_seconds):
        await rt.passwords.forgot(body.email, context)
    return Accepted()


@router.post(
    "/reset",
    summary="Set a new password with the token from the email",
    description="Also verifies the address and ends a lockout; every access "
    "token issued before stops working.",
    dependencies=[Depends(rate_limited)],
    responses=documented(
        "invalid_or_expired_token", "validation_error", "rate_limited"
    ),
)
async def reset(
    body: PasswordReset, rt: RuntimeDep, context: ContextDep
) -> PasswordWasReset:
    await rt.passwords.reset(body.token, body.new_password, context)
    return PasswordWasReset()


@router.post(
    "/change",
    summary="Change the password of the caller",
    description="Every access token issued before, this one included, stops working.",
    dependencies=[Depends(rate_limited)],
    responses=documented(
        "invalid_credentials", "invalid_token", "validation_error", "rate_limited"
    ),
)
async def change(
    body: PasswordChange, session: SessionDep, rt: RuntimeDep, context: ContextDep
) -> PasswordWasChanged:
    await rt.passwords.change(
        session, body.current_password, body.new_password, context
    )
    return PasswordWasChanged()
