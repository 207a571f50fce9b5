"""Email addresses are normalised in one place; every lookup uses the canonical form."""

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from identity.domain.emails import (
    MAX_INPUT_CHARS,
    EmailAddress,
    InvalidEmail,
    normalise_email,
)


@pytest.mark.parametrize(
    ("typed", "address", "canonical"),
    [
        ("ada@example.com", "ada@example.com", "ada@example.com"),
        (
            "  Ada.Lovelace@Example.COM \t",
            "Ada.Lovelace@example.com",
            "ada.lovelace@example.com",
        ),
        (
            "ada@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",
            "ada@example.com",
            "ada@example.com",
        ),  # NFKC: full width
        (
            "\uff55\uff53\uff45\uff52@example.com",
            "user@example.com",
            "user@example.com",
        ),
        ("Jürgen@Bücher.de", "Jürgen@xn--bcher-kva.de", "jürgen@xn--bcher-kva.de"),
        ("STRASSE@example.com", "STRASSE@example.com", "strasse@example.com"),
        ("straße@example.com", "straße@example.com", "strasse@example.com"),
    ],
)
def test_typed_input_becomes_the_stored_and_the_canonical_address(
    typed: str, address: str, canonical: str
) -> None:
    assert normalise_email(typed) == EmailAddress(address, canonical)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "no-at-sign",
        "two@@example.com",
        "ada@localhost",
        "ada@example.com\r\nBcc: eve@example.com",
        "ada@example.com\n",
        "\r\nada@example.com",
        "ad\x00a@example.com",
        "ad\u200ba@example.com",  # zero-width space
        "ada@exa mple.com",
        '"quoted"@example.com',
        "ada@[127.0.0.1]",
        "a" * 65 + "@example.com",
        "ada@" + "a" * 250 + ".com",
        "a" * (MAX_INPUT_CHARS + 1),
    ],
)
def test_what_is_not_an_address_is_refused(typed: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(typed)


_local = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=30)
_domain = st.from_regex(r"[a-z][a-z0-9]{0,20}\.(com|org|de|net)", fullmatch=True)
_addresses = st.builds(lambda local, domain: f"{local}@{domain}", _local, _domain)


def _valid(typed: str) -> EmailAddress:
    try:
        return normalise_email(typed)
    except InvalidEmail:
        assume(False)
        raise


@given(_addresses, st.text(" \t", max_size=3), st.text(" \t", max_size=3))
def test_normalising_is_idempotent_and_ignores_surrounding_blanks(
    typed: str, before: str, after: str
) -> None:
    email = _valid(typed)
    assert normalise_email(before + typed + after) == email
    assert normalise_email(email.address) == email
    assert normalise_email(email.canonical).canonical == email.canonical


@given(_addresses, st.data())
def test_the_canonical_form_ignores_the_case_of_the_whole_address(
    typed: str, data: st.DataObject
) -> None:
    email = _valid(typed)
    flips = data.draw(st.lists(st.booleans(), min_size=len(typed), max_size=len(typed)))
    recased = "".join(
        c.swapcase() if f else c for c, f in zip(typed, flips, strict=True)
    )
    assert normalise_email(recased).canonical == email.canonical
    assert email.address.split("@")[1] == email.canonical.split("@")[1]


@given(st.text(max_size=400))
def test_any_input_gives_a_clean_address_or_a_refusal(typed: str) -> None:
    try:
        email = normalise_email(typed)
    except InvalidEmail:
        return
    for form in (email.address, email.canonical):
        assert form == form.strip()
        assert len(form) <= 254
        assert all(c.isprintable() for c in form)
        assert form.count("@") == 1
        assert form.split("@")[1].isascii()
    assert normalise_email(email.address) == email
