"""Access tokens: log in (JSON or the OAuth2 password form) and log out."""

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from identity.http.problems import documented
from identity.http.rate_limit import RateLimited
from identity.http.runtime import ContextDep, RuntimeDep, SessionDep
from identity.http.schemas import Credentials, TokenIssued
from shared.http import Problem

router = APIRouter(prefix="/v1/auth", tags=["auth"])

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

_CREDENTIALS_SCHEMA = Credentials.model_json_schema()
_FORM_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password"]},
        "username": {"type": "string", "description": "the email address"},
        "password": {"type": "string", "format": "password"},
    },
}


@router.post(
    "/token",
    summary="Log in: exchange email and password for an access token",
    description="JSON `{email, password}` or the OAuth2 password form "
    "(`username`, `password`). The token is a JWT signed with EdDSA, valid 24 h. "
    "A wrong password and an unknown address get the same answer; after 5 "
    "consecutive failures the address is locked for 30 minutes (423).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _CREDENTIALS_SCHEMA,
                    "example": {
                        "email": "ada@example.com",
                        "password": "correct horse battery",
                    },
                },
                "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
            },
        }
    },
    responses=documented(
        "invalid_credentials",
        "email_not_verified",
        "validation_error",
        "account_locked",
        "rate_limited",
    ),
)
async def token(request: Request, rt: RuntimeDep, context: ContextDep) -> TokenIssued:
    fields, from_form = await _login_fields(request)
    try:
        rt.limiter.take(context.ip)
    except RateLimited as refused:
        if refused.worth_recording:
            email = fields.get("email")
            await rt.sessions.record_rate_limited(
                email if isinstance(email, str) else None, context
            )
        raise
    try:
        credentials = Credentials.model_validate(fields)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        for error in errors:  # located as FastAPI does, named as the client did
            names = (
                "username" if p == "email" and from_form else p for p in error["loc"]
            )
            error["loc"] = ("body", *names)
        raise RequestValidationError(errors) from exc
    issued = await rt.sessions.log_in(credentials.email, credentials.password, context)
    return TokenIssued(
        access_token=issued.token, expires_in=rt.access_token_ttl_seconds
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the bearer token",
    responses=documented("invalid_token"),
)
async def logout(session: SessionDep, rt: RuntimeDep, context: ContextDep) -> Response:
    await rt.sessions.log_out(session, context)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _login_fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The submitted fields, and whether they came as the OAuth2 form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_TYPES:
        form = await request.form(max_files=0, max_fields=16)
        grant_type = form.get("grant_type")
        if grant_type not in (None, "", "password"):
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "grant_type"),
                        "msg": "must be 'password'",
                        "type": "value_error",
                    }
                ]
            )
        return {"email": form.get("username"), "password": form.get("password")}, True
    if media_type not in ("application/json", ""):
        raise Problem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "Send JSON or the OAuth2 password form.",
        )
    try:
        body = json.loads(await request.body() or b"null")
    # RecursionError: nesting a few thousand arrays deep fits in the body limit
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("body",),
                    "msg": "body is not valid JSON",
                    "type": "json_invalid",
                }
            ]
        ) from exc
    if not isinstance(body, dict):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "expected a JSON object", "type": "dict_type"}]
        )
    return body, False
