"""Hostile input on the identity API: refused with a 4xx, and no trace of harm.

No 500, no stored row holding the raw bad value, no event naming an injected
address (the notifier mails ``envelope.email`` and nothing else, so an
address that never reaches an event can never be mailed; the pipeline test
checks that end to end). Addresses that only look alike are different
accounts; addresses that differ only in case or width are one.
"""

from collections import Counter

import httpx
import pytest

from shared.events import EventType, FailureReason
from tests.identity.conftest import PASSWORD, Identity, problem_code
from tests.reliability.identity_store import CONTROL_TRACES, stored_text

INJECTED = "eve@evil.example"
BAD_ADDRESSES = [
    f"ada@example.com\r\nBcc: {INJECTED}",
    f"ada@example.com\nTo: {INJECTED}",
    f"ada@example.com\r\n\r\nHello from {INJECTED}",
    f"\r\nBcc: {INJECTED}\r\nada@example.com",
    f"ada@example.com%0d%0aBcc:{INJECTED}",
    "ada@example.com\x00" + INJECTED,
    "ad\x00a@example.com",
    "ada@example.com\u2028Bcc: eve@evil.example",  # Unicode line separator
    "ada@example.com\u0085Bcc: eve@evil.example",  # NEL
    "ad\u200ba@example.com",  # zero-width space
    "ad\u202ea@example.com",  # right-to-left override
    "ada@exa\tmple.com",
    f"ada@example.com,{INJECTED}",
    f"ada@example.com;{INJECTED}",
    f"ada@example.com <{INJECTED}>",
    f"{INJECTED}@example.com",
]


async def _every_address_endpoint(
    identity: Identity, email: str
) -> list[httpx.Response]:
    http = identity.http
    return [
        await identity.register(email),
        await http.post("/v1/users/verification/resend", json={"email": email}),
        await http.post("/v1/password/forgot", json={"email": email}),
        await identity.log_in(email, PASSWORD),
        await http.post(
            "/v1/auth/token", data={"username": email, "password": PASSWORD}
        ),
    ]


async def test_line_breaks_nul_and_invisible_characters_in_an_address_are_refused(
    identity: Identity,
) -> None:
    await identity.register_verified("ada@example.com")

    for email in BAD_ADDRESSES:
        for answer in await _every_address_endpoint(identity, email):
            assert answer.status_code == 422, (email, answer.request.url, answer.text)
            assert problem_code(answer) == "validation_error"
            assert INJECTED not in answer.text

    stored = await stored_text(identity.app.state.engine)
    assert INJECTED not in stored
    assert [c for c in CONTROL_TRACES if c in stored] == []
    for envelope in await identity.envelopes():
        assert envelope.email in (None, "ada@example.com")
    # The account the attacks named is untouched: no lock, no failure counted.
    assert (await identity.log_in("ada@example.com")).status_code == 200


DEEP = 5_000
OVERSIZED: list[tuple[str, str, bytes]] = [
    ("/v1/users", "email of 321 characters", b'{"email": "%s@x.io", "password": "p"}'),
    (
        "/v1/users",
        "password of 1025 characters",
        b'{"email": "a@x.io", "password": "%s"}',
    ),
    ("/v1/users/verification", "token of 513 characters", b'{"token": "%s"}'),
    (
        "/v1/password/reset",
        "token of 513 characters",
        b'{"token": "%s", "new_password": "p"}',
    ),
    (
        "/v1/auth/token",
        "password of 1025 characters",
        b'{"email": "a@x.io", "password": "%s"}',
    ),
]
FILLER = {
    "email of 321 characters": 316,
    "password of 1025 characters": 1025,
    "token of 513 characters": 513,
}
BOMBS: list[tuple[str, bytes]] = [
    ("nested arrays", b'{"email": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
    ("nested objects", b'{"email": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}"),
    ("huge number", b'{"email": 1e999999, "password": 9' + b"9" * 4000 + b"}"),
    ("many keys", b"{" + b",".join(b'"k%d": 1' % i for i in range(1500)) + b"}"),
    ("lone surrogate", b'{"email": "\\ud800@x.io", "password": "correct horse"}'),
    ("invalid UTF-8", b'{"email": "\xff\xfe@x.io", "password": "correct horse"}'),
]


@pytest.mark.parametrize(("path", "what", "template"), OVERSIZED, ids=lambda v: str(v))
async def test_an_oversized_field_is_a_4xx(
    identity: Identity, path: str, what: str, template: bytes
) -> None:
    body = template % (b"a" * FILLER[what])

    answer = await identity.http.post(
        path, content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 422, answer.text
    assert problem_code(answer) == "validation_error"
    assert "a" * 300 not in answer.text  # the input is not echoed back
    assert await identity.envelopes() == [] or all(
        e.email is None for e in await identity.envelopes()
    )


async def test_json_bombs_are_a_4xx_and_the_service_keeps_answering(
    identity: Identity,
) -> None:
    for name, body in BOMBS:
        for path in ("/v1/users", "/v1/auth/token", "/v1/password/forgot"):
            answer = await identity.http.post(
                path, content=body, headers={"Content-Type": "application/json"}
            )
            assert 400 <= answer.status_code < 500, (name, path, answer.text[:200])
            problem_code(answer)

    assert (await identity.register("after@example.com")).status_code == 202


async def test_case_and_width_variants_are_one_account(identity: Identity) -> None:
    user_id = await identity.register_verified("ana@example.com")
    spellings = [
        "ANA@EXAMPLE.COM",
        "  Ana@Example.Com  ",
        "ana@EXAMPLE.com",
        "\uff41\uff4e\uff41@example.com",  # full-width "ana"
        "ana@\uff45xample.com",  # full-width "e" in the domain
    ]

    registrations = [
        await identity.register(s, "another horse battery") for s in spellings
    ]
    logins = [await identity.log_in(s) for s in spellings]

    assert [r.status_code for r in registrations] == [202] * len(spellings)
    refused = [
        e
        for e in await identity.envelopes()
        if e.event_type == EventType.REGISTRATION_FAILED
    ]
    assert [(e.reason, str(e.user_id)) for e in refused] == [
        (FailureReason.EMAIL_ALREADY_REGISTERED, user_id)
    ] * len(spellings)
    assert [r.status_code for r in logins] == [200] * len(spellings)
    kinds = Counter(e.event_type for e in await identity.envelopes())
    assert kinds[EventType.REGISTRATION_SUCCESS] == 1


async def test_failures_under_different_spellings_lock_the_one_account(
    identity: Identity,
) -> None:
    await identity.register_verified("ana@example.com")
    spellings = ["ana@example.com", "ANA@example.com", "Ana@EXAMPLE.COM"]

    statuses = [
        (await identity.log_in(spellings[i % 3], "wrong horse battery")).status_code
        for i in range(5)
    ]

    assert statuses == [401, 401, 401, 401, 423]
    assert (await identity.log_in("ana@example.com")).status_code == 423


LOOK_ALIKES = [
    "\u0430na@example.com",  # Cyrillic a
    "an\u0430@example.com",
    "ana@ex\u0430mple.com",  # Cyrillic a in the domain
    "ana@examp\u04cfe.com",  # Cyrillic palochka for l
    "\u0251na@example.com",  # Latin alpha
]


async def test_look_alike_addresses_are_other_accounts_and_never_collide(
    identity: Identity,
) -> None:
    ana = await identity.register_verified("ana@example.com")

    answers = [
        await identity.register(s, "lookalike horse battery") for s in LOOK_ALIKES
    ]
    logins = [await identity.log_in(s) for s in LOOK_ALIKES]  # with ana's password

    assert all(a.status_code in (202, 422) for a in answers), [a.text for a in answers]
    assert all(a.status_code in (401, 403, 422) for a in logins)
    envelopes = await identity.envelopes()
    others = [
        e
        for e in envelopes
        if e.event_type == EventType.REGISTRATION_SUCCESS and str(e.user_id) != ana
    ]
    assert len(others) == sum(a.status_code == 202 for a in answers) >= 3
    assert len({e.email for e in others}) == len(others)
    for envelope in envelopes:
        if str(envelope.user_id) == ana:  # nothing that happened touched ana
            assert envelope.event_type in (
                EventType.REGISTRATION_SUCCESS,
                EventType.EMAIL_VERIFIED,
            )
    assert (await identity.log_in("ana@example.com")).status_code == 200


async def test_a_nul_in_a_password_is_hashed_whole_never_cut_short(
    identity: Identity,
) -> None:
    await identity.register_verified("ana@example.com", "correct horse\x00battery")

    whole = await identity.log_in("ana@example.com", "correct horse\x00battery")
    cut = await identity.log_in("ana@example.com", "correct horse")

    assert whole.status_code == 200
    assert cut.status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/users/verification", {"token": "abc\x00def"}),
        ("/v1/password/reset", {"token": "\x00", "new_password": "correct horse 2"}),
        ("/v1/password/reset", {"token": "abc", "new_password": "\x00" * 12}),
    ],
)
async def test_a_nul_in_a_token_or_new_password_is_a_4xx(
    identity: Identity, path: str, body: dict[str, str]
) -> None:
    answer = await identity.http.post(path, json=body)

    assert answer.status_code in (400, 422), answer.text
    problem_code(answer)
    assert "\\u0000" not in await stored_text(identity.app.state.engine)
