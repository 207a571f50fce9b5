"""RFC 9457 problem details: the one place exceptions become HTTP answers.

Every 4xx/5xx body is ``application/problem+json`` with a ``type`` that ends
in a stable code. No stack trace, SQL or internal name reaches a client.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://authtrail.dev/problems/"

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    423: "account_locked",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ProblemDetail(BaseModel):
    """The body of every error answer (documented in the OpenAPI)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class Problem(Exception):
    """An error that becomes a problem+json answer with a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str = "",
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title = status, code, title
        self.detail = detail or title
        self.headers = headers or {}
        self.errors = errors


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    return JSONResponse(
        body,
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error with problem+json, and say so in the OpenAPI."""
    _document_problems(app)

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            Problem(
                422,
                "validation_error",
                "The request is not valid",
                "One or more fields are missing or malformed.",
                errors=_validation_errors(exc),
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        title = code.replace("_", " ").capitalize()
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            Problem(
                exc.status_code, code, title, detail, headers=dict(exc.headers or {})
            )
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error(
            "http.unhandled_error", extra={"path": request.url.path}, exc_info=exc
        )
        return problem_response(
            Problem(
                500,
                "internal_error",
                "Internal error",
                "The server could not complete the request.",
            )
        )


def _document_problems(app: FastAPI) -> None:
    """Make the OpenAPI tell what the handlers above answer.

    FastAPI documents its validation errors as ``application/json`` in its own
    shape, and leaves out the 400 it raises for a body it cannot parse; both
    really arrive as problem+json. Responses a route documents itself stay.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # which FastAPI keeps as app.openapi_schema
        _problems_in(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problems_in(schema: dict[str, Any]) -> None:
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
    for operation in _operations(schema):
        responses = operation.setdefault("responses", {})
        if "HTTPValidationError" in str(responses.get("422", {}).get("content")):
            responses["422"] = {"description": "validation_error", "content": problem}
        if "requestBody" in operation:
            responses.setdefault(
                "400",
                {"description": "bad_request: unparseable body", "content": problem},
            )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ProblemDetail",
        ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}"),
    )
    if "HTTPValidationError" not in str(schema["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [
        operation
        for item in schema.get("paths", {}).values()
        for method, operation in item.items()
        if method in methods
    ]
