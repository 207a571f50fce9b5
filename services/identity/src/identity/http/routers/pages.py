"""The small pages behind the links in emails.

A GET only shows a page with a button or a form; only the POST behind it
uses the token, so mail scanners that follow links never burn one. After a
POST the browser is redirected (303) to a result page that carries no token.
"""

from functools import cache
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from identity.application.errors import InvalidInput, InvalidOrExpiredToken
from identity.http.problems import documented
from identity.http.runtime import ContextDep, RuntimeDep, rate_limited
from identity.http.schemas import MAX_PASSWORD_INPUT, MAX_TOKEN_INPUT

router = APIRouter(tags=["pages"], include_in_schema=True)

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

TokenQuery = Query(default="", max_length=MAX_TOKEN_INPUT)
FORM_PROBLEMS = documented("payload_too_large", "validation_error", "rate_limited")
SEE_RESULT: dict[int | str, dict[str, Any]] = {
    303: {"description": "to the result page, which carries no token"}
}


def _form_body(**max_chars: int) -> dict[str, Any]:
    """The form a page posts, for the OpenAPI (the route reads it by hand)."""
    fields = {name: {"type": "string", "maxLength": n} for name, n in max_chars.items()}
    schema = {"type": "object", "properties": fields, "required": list(fields)}
    form = {"application/x-www-form-urlencoded": {"schema": schema}}
    return {"requestBody": {"required": True, "content": form}}


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("identity.http", "templates"),
        autoescape=select_autoescape(default=True),
    )


def _page(name: str, **values: object) -> HTMLResponse:
    html = _templates().get_template(name).render(**values)
    return HTMLResponse(html, headers=PAGE_HEADERS)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


@router.get(
    "/verify", response_class=HTMLResponse, summary="Page: verify the email address"
)
async def verify_page(
    token: str = TokenQuery,
    result: Literal["verified", "invalid"] | None = None,
) -> HTMLResponse:
    return _page("verify.html", title="Verify your email", token=token, result=result)


@router.post(
    "/verify",
    response_class=RedirectResponse,
    status_code=303,
    summary="Form: use the verification token",
    dependencies=[Depends(rate_limited)],
    responses=FORM_PROBLEMS,
    openapi_extra=_form_body(token=MAX_TOKEN_INPUT),
)
async def verify_form(
    request: Request, rt: RuntimeDep, context: ContextDep
) -> RedirectResponse:
    form = await _form(request)
    try:
        await rt.registration.verify(_field(form, "token", MAX_TOKEN_INPUT), context)
    except InvalidOrExpiredToken:
        return _see("/verify?result=invalid")
    return _see("/verify?result=verified")


@router.get(
    "/reset-password",
    response_class=HTMLResponse,
    summary="Page: choose a new password",
)
async def reset_page(
    token: str = TokenQuery,
    result: Literal["done", "invalid"] | None = None,
) -> HTMLResponse:
    return _page(
        "reset_password.html", title="Choose a new password", token=token, result=result
    )


@router.post(
    "/reset-password",
    response_model=None,
    response_class=HTMLResponse,
    summary="Form: use the reset token",
    dependencies=[Depends(rate_limited)],
    responses={**SEE_RESULT, **FORM_PROBLEMS},
    openapi_extra=_form_body(
        token=MAX_TOKEN_INPUT,
        new_password=MAX_PASSWORD_INPUT,
        confirm_password=MAX_PASSWORD_INPUT,
    ),
)
async def reset_form(
    request: Request, rt: RuntimeDep, context: ContextDep
) -> HTMLResponse | RedirectResponse:
    form = await _form(request)
    token = _field(form, "token", MAX_TOKEN_INPUT)
    new_password = _field(form, "new_password", MAX_PASSWORD_INPUT)
    confirmation = _field(form, "confirm_password", MAX_PASSWORD_INPUT)
    errors: list[str] = []
    if new_password != confirmation:
        errors.append("The two passwords differ.")
    else:
        try:
            await rt.passwords.reset(token, new_password, context)
        except InvalidOrExpiredToken:
            return _see("/reset-password?result=invalid")
        except InvalidInput as exc:
            errors.extend(str(e["msg"]).capitalize() + "." for e in exc.errors)
    if errors:
        return _page(
            "reset_password.html",
            title="Choose a new password",
            token=token,
            result=None,
            errors=errors,
        )
    return _see("/reset-password?result=done")


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=8)


def _field(form: FormData, name: str, max_chars: int) -> str:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > max_chars:
        raise InvalidInput(
            [
                {
                    "loc": ["body", name],
                    "msg": "missing or too long",
                    "type": "value_error",
                }
            ]
        )
    return value
