"""The pages behind the email links: a GET never uses the token, the POST does."""

from shared.events import EventType
from tests.identity.conftest import PASSWORD, Identity

NEW = "a brand new passphrase"


async def test_opening_the_verification_link_only_shows_a_button(
    identity: Identity,
) -> None:
    await identity.register("ada@example.com")
    token = await identity.token_from(EventType.REGISTRATION_SUCCESS)

    page = await identity.http.get("/verify", params={"token": token})
    scanned = await identity.http.get(
        "/verify", params={"token": token}
    )  # a mail scanner

    assert page.status_code == scanned.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'method="post" action="/verify"' in page.text
    assert f'value="{token}"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert not [
        e
        for e in await identity.envelopes()
        if e.event_type == EventType.EMAIL_VERIFIED
    ]

    posted = await identity.http.post("/verify", data={"token": token})

    assert posted.status_code == 303
    assert posted.headers["location"] == "/verify?result=verified"
    assert token not in posted.headers["location"]
    done = await identity.http.get(posted.headers["location"])
    assert "verified" in done.text
    assert (await identity.log_in("ada@example.com")).status_code == 200
    again = await identity.http.post("/verify", data={"token": token})
    assert again.headers["location"] == "/verify?result=invalid"


async def test_the_reset_page_sets_a_new_password_through_its_form(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")
    await identity.http.post("/v1/password/forgot", json={"email": "ada@example.com"})
    token = await identity.token_from(EventType.PASSWORD_RESET_REQUESTED)

    page = await identity.http.get("/reset-password", params={"token": token})
    mismatch = await identity.http.post(
        "/reset-password",
        data={"token": token, "new_password": NEW, "confirm_password": NEW + "!"},
    )
    weak = await identity.http.post(
        "/reset-password",
        data={
            "token": token,
            "new_password": "password1",
            "confirm_password": "password1",
        },
    )
    done = await identity.http.post(
        "/reset-password",
        data={"token": token, "new_password": NEW, "confirm_password": NEW},
    )

    assert 'action="/reset-password"' in page.text and 'type="password"' in page.text
    assert "differ" in mismatch.text and mismatch.status_code == 200
    assert "too common" in weak.text
    assert done.status_code == 303
    assert done.headers["location"] == "/reset-password?result=done"
    assert (await identity.log_in("ada@example.com", NEW)).status_code == 200
    assert (await identity.log_in("ada@example.com", PASSWORD)).status_code == 401


async def test_page_values_are_escaped(identity: Identity) -> None:
    page = await identity.http.get(
        "/verify", params={"token": '"><script>alert(1)</script>'}
    )
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text or "&#34;&gt;&lt;script" in page.text
