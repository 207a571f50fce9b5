"""The password policy: length, not the address, not a common password."""

import pytest

from identity.domain.emails import normalise_email
from identity.domain.passwords import (
    PasswordProblem,
    common_passwords,
    password_problems,
)

ADA = normalise_email("Ada.Lovelace@example.com")


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("correct horse battery", []),
        ("x7#kLp2q", []),
        ("é" * 256, []),
        ("short", [PasswordProblem.TOO_SHORT]),
        ("1234567", [PasswordProblem.TOO_SHORT]),
        ("x" * 257, [PasswordProblem.TOO_LONG]),
        ("ada.lovelace@example.com", [PasswordProblem.EQUALS_EMAIL]),
        ("ADA.LOVELACE@EXAMPLE.COM", [PasswordProblem.EQUALS_EMAIL]),
        ("Ada.Lovelace", [PasswordProblem.EQUALS_EMAIL]),
        ("password", [PasswordProblem.TOO_COMMON]),
        ("Password123", [PasswordProblem.TOO_COMMON]),
        ("QWERTYUIOP", [PasswordProblem.TOO_COMMON]),
        ("12345678", [PasswordProblem.TOO_COMMON]),
    ],
)
def test_the_policy_names_every_rule_a_password_breaks(
    password: str, problems: list[PasswordProblem]
) -> None:
    assert password_problems(password, ADA) == problems


def test_the_common_list_ships_with_the_package() -> None:
    assert len(common_passwords()) > 300
    assert {"iloveyou", "password1", "sunshine"} <= common_passwords()
