"""The dev mailbox catches mail over SMTP and shows it over HTTP."""

from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from devstack.mailbox import DevMailbox, extract_links, parse_message

VERIFY_URL = "http://127.0.0.1:8001/verify?token=abc123&lang=en"


@pytest.fixture(scope="module")
async def mailbox() -> AsyncIterator[DevMailbox]:
    box = DevMailbox(smtp_port=0, http_port=0)
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def client(mailbox: DevMailbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mailbox.url) as http:
        await http.delete("/api/messages")
        yield http


def verification_mail(to: str, subject: str = "Verify your email") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "authtrail <no-reply@authtrail.dev>"
    mail["To"] = to
    mail["Subject"] = subject
    # Long lines and non-ASCII force quoted-printable and base64 on the wire.
    mail.set_content(
        "Bonjour Zoë,\n\nconfirm your address: "
        f"{VERIFY_URL}\n\n" + "This link expires in 24 hours. " * 5,
        cte="quoted-printable",
    )
    mail.add_alternative(
        f'<p>Bonjour Zoë,</p><p><a href="{VERIFY_URL.replace("&", "&amp;")}">'
        "Verify</a></p>",
        subtype="html",
        cte="base64",
    )
    return mail


async def send(mailbox: DevMailbox, mail: EmailMessage) -> None:
    await aiosmtplib.send(mail, hostname=mailbox.host, port=mailbox.smtp_port)


async def test_a_multipart_mail_shows_subject_bodies_and_links(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    await send(mailbox, verification_mail("zoe@example.com"))

    answer = await client.get("/api/messages", params={"to": "zoe@example.com"})

    assert answer.status_code == 200
    [message] = answer.json()
    assert set(message) >= {"id", "to", "subject", "text", "html", "received_at"}
    assert message["to"] == "zoe@example.com"
    assert message["subject"] == "Verify your email"
    assert message["text"].startswith("Bonjour Zoë,\n\nconfirm your address: ")
    assert VERIFY_URL in message["text"]
    assert (
        '<a href="http://127.0.0.1:8001/verify?token=abc123&amp;lang=en">'
        in (message["html"])
    )
    assert message["links"] == [VERIFY_URL]


async def test_messages_come_newest_first_and_the_filter_ignores_case(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    await send(mailbox, verification_mail("Ann@Example.com", "first"))
    await send(mailbox, verification_mail("bob@example.com", "for bob"))
    await send(mailbox, verification_mail("ann@example.com", "second"))

    for_ann = await client.get("/api/messages", params={"to": "ANN@example.COM"})
    everything = await client.get("/api/messages")

    assert [m["subject"] for m in for_ann.json()] == ["second", "first"]
    assert [m["subject"] for m in everything.json()] == ["second", "for bob", "first"]


async def test_each_recipient_gets_its_own_copy(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    mail = verification_mail("a@example.com")
    await aiosmtplib.send(
        mail,
        hostname=mailbox.host,
        port=mailbox.smtp_port,
        recipients=["a@example.com", "b@example.com"],
    )

    messages = (await client.get("/api/messages")).json()

    assert sorted(m["to"] for m in messages) == ["a@example.com", "b@example.com"]
    assert len({m["id"] for m in messages}) == 2


async def test_one_message_by_id_and_an_unknown_id_is_a_404_problem(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    await send(mailbox, verification_mail("carl@example.com"))
    [listed] = (await client.get("/api/messages")).json()

    found = await client.get(f"/api/messages/{listed['id']}")
    missing = await client.get("/api/messages/nope")

    assert found.json() == listed
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"].endswith("/not_found")


async def test_delete_clears_the_mailbox(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    await send(mailbox, verification_mail("dora@example.com"))

    cleared = await client.delete("/api/messages")

    assert cleared.status_code == 204
    assert (await client.get("/api/messages")).json() == []


async def test_health_and_the_index_page(
    mailbox: DevMailbox, client: httpx.AsyncClient
) -> None:
    await send(mailbox, verification_mail("eve@example.com", "<script>x</script>"))

    health = await client.get("/healthz")
    index = await client.get("/")

    assert health.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "eve@example.com" in index.text
    assert "&lt;script&gt;x&lt;/script&gt;" in index.text
    assert "<script>" not in index.text


async def test_an_overlong_filter_is_a_422_problem(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/messages", params={"to": "x" * 400})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


async def test_only_the_newest_messages_are_kept() -> None:
    box = DevMailbox(smtp_port=0, http_port=0, capacity=2)
    await box.start()
    try:
        for subject in ("one", "two", "three"):
            await send(box, verification_mail("fay@example.com", subject))
        assert [m.subject for m in box.store.messages()] == ["three", "two"]
    finally:
        await box.stop()


async def test_a_busy_port_fails_the_start_with_os_error(mailbox: DevMailbox) -> None:
    clash = DevMailbox(smtp_port=0, http_port=mailbox.http_port)

    with pytest.raises(OSError):
        await clash.start()


def test_a_plain_text_mail_has_an_empty_html_body() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\n"
        b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nSee https://example.com/a.\r\n"
    )

    [message] = parse_message(raw, recipients=["b@example.com"], mail_from="a@x")

    assert message.subject == "Café"
    assert message.html == ""
    assert message.links == ["https://example.com/a"]


def test_an_unknown_charset_still_shows_the_text() -> None:
    raw = (
        b"Subject: odd\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
        b"visit http://example.com/x\r\n"
    )

    [message] = parse_message(raw, recipients=["b@example.com"], mail_from="")

    assert "visit http://example.com/x" in message.text


def test_links_are_found_once_in_order_without_trailing_punctuation() -> None:
    text = "Go to https://a.example/x, then (http://b.example/y). Again https://a.example/x"
    html = '<a href="https://c.example/?a=1&amp;b=2">c</a>'

    assert extract_links(text, html) == [
        "https://a.example/x",
        "http://b.example/y",
        "https://c.example/?a=1&b=2",
    ]
