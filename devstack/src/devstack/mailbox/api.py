"""The mailbox HTTP API: list, read and clear the caught messages."""

from html import escape
from typing import Annotated

from fastapi import FastAPI, Query, Response
from fastapi.responses import HTMLResponse

from devstack import __version__
from devstack.mailbox.message import MailMessage
from devstack.mailbox.store import MailStore
from shared.http import Problem, ProblemDetail, health_router, install_problem_handlers

_INDEX_LIMIT = 200


def create_app(store: MailStore) -> FastAPI:
    app = FastAPI(title="authtrail dev mailbox", version=__version__)
    install_problem_handlers(app)
    app.include_router(health_router({}))

    @app.get("/api/messages", summary="Caught messages, newest first")
    async def list_messages(
        to: Annotated[str | None, Query(max_length=320)] = None,
    ) -> list[MailMessage]:
        return store.messages(to)

    @app.get(
        "/api/messages/{message_id}",
        summary="One caught message",
        responses={404: {"model": ProblemDetail}},
    )
    async def get_message(message_id: str) -> MailMessage:
        message = store.get(message_id)
        if message is None:
            raise Problem(404, "not_found", "No such message")
        return message

    @app.delete("/api/messages", status_code=204, summary="Forget every message")
    async def clear_messages() -> Response:
        store.clear()
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return _render_index(store.messages()[:_INDEX_LIMIT], len(store))

    return app


def _render_index(messages: list[MailMessage], total: int) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{escape(m.received_at.strftime('%Y-%m-%d %H:%M:%S'))}</td>"
        f"<td>{escape(m.to)}</td>"
        f'<td><a href="/api/messages/{escape(m.id)}">{escape(m.subject)}</a></td>'
        f"<td>{''.join(_link(url) for url in m.links)}</td>"
        "</tr>"
        for m in messages
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>authtrail dev mailbox</title>"
        "<style>body{font-family:sans-serif}td{padding:2px 8px;"
        "vertical-align:top}a{display:block}</style></head><body>"
        f"<h1>Dev mailbox</h1><p>{total} message(s), newest first. "
        "JSON: <a style='display:inline' href='/api/messages'>/api/messages</a>"
        "</p><table><tr><th>received (UTC)</th><th>to</th><th>subject</th>"
        f"<th>links</th></tr>{rows}</table></body></html>"
    )


def _link(url: str) -> str:
    return f'<a href="{escape(url)}">{escape(url)}</a>'
