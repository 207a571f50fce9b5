"""Refusals of the use cases as problem+json answers: the one mapping."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from identity.adapters.storage_errors import StorageUnavailable
from identity.application.errors import (
    AccountIsLocked,
    Busy,
    EmailNotVerified,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidInput,
    InvalidOrExpiredToken,
)
from identity.domain.errors import IdentityError
from identity.http.rate_limit import RateLimited
from shared.http import PROBLEM_JSON, Problem, ProblemDetail
from shared.http.problems import PROBLEM_BASE, problem_response

logger = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer error="invalid_token"'

# status, code, title, detail of each documented problem
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "invalid_or_expired_token": (
        400,
        "Invalid or expired token",
        "The link is invalid, was already used, was superseded or has expired.",
    ),
    "invalid_credentials": (401, "Invalid credentials", "Email or password is wrong."),
    "invalid_token": (
        401,
        "Invalid access token",
        "The bearer token is missing, malformed, expired, revoked or superseded.",
    ),
    "email_not_verified": (
        403,
        "Email not verified",
        "Verify the email address before logging in.",
    ),
    "payload_too_large": (413, "Request body too large", "The body is too large."),
    "validation_error": (
        422,
        "The request is not valid",
        "One or more fields are missing or malformed.",
    ),
    "account_locked": (
        423,
        "Account locked",
        "Too many failed logins. Try again later or reset the password.",
    ),
    "rate_limited": (429, "Too many requests", "Slow down and retry later."),
    "busy": (503, "Busy", "Too many concurrent changes to this account; retry."),
    "service_unavailable": (
        503,
        "Service unavailable",
        "A dependency of the service is not reachable; retry later.",
    ),
}


def problem(
    code: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Problem:
    status, title, detail = CATALOGUE[code]
    return Problem(status, code, title, detail, headers=headers, **extra)


def to_problem(exc: IdentityError) -> Problem:
    match exc:
        case InvalidInput(errors=errors):
            return problem("validation_error", errors=errors)
        case InvalidCredentials():
            return problem("invalid_credentials")
        case InvalidAccessToken():
            return problem(
                "invalid_token", headers={"WWW-Authenticate": BEARER_CHALLENGE}
            )
        case EmailNotVerified():
            return problem("email_not_verified")
        case AccountIsLocked(retry_after=seconds):
            return problem("account_locked", headers={"Retry-After": str(seconds)})
        case RateLimited(retry_after=seconds):
            return problem("rate_limited", headers={"Retry-After": str(seconds)})
        case InvalidOrExpiredToken():
            return problem("invalid_or_expired_token")
        case Busy():
            return problem("busy", headers={"Retry-After": "1"})
        case StorageUnavailable():
            logger.warning("http.database_unavailable", extra={"error": str(exc)})
            return problem("service_unavailable", headers={"Retry-After": "5"})
    logger.error("http.identity_error", exc_info=exc)
    return Problem(
        500,
        "internal_error",
        "Internal error",
        "The server could not complete the request.",
    )


def install_identity_problems(app: FastAPI) -> None:
    @app.exception_handler(IdentityError)
    async def _refused(_: Request, exc: IdentityError) -> JSONResponse:
        return problem_response(to_problem(exc))


def documented(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer, with examples."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        status, title, detail = CATALOGUE[code]
        example: dict[str, Any] = {
            "type": PROBLEM_BASE + code,
            "title": title,
            "status": status,
            "detail": detail,
        }
        if code == "validation_error":
            example["errors"] = [
                {"loc": ["body", "email"], "msg": "...", "type": "email"}
            ]
        entry = responses.setdefault(
            status,
            {
                "model": ProblemDetail,
                "description": "",
                "content": {PROBLEM_JSON: {"examples": {}}},
            },
        )
        entry["description"] = " / ".join(filter(None, [entry["description"], code]))
        entry["content"][PROBLEM_JSON]["examples"][code] = {
            "summary": title,
            "value": example,
        }
        if code in {"account_locked", "rate_limited", "busy", "service_unavailable"}:
            entry["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait",
                    "schema": {"type": "integer"},
                }
            }
    return responses
