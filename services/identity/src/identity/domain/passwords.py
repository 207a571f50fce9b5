"""The password policy: what a new password must satisfy before it is hashed."""

from enum import StrEnum
from functools import cache
from importlib import resources

from identity.domain.emails import EmailAddress

MIN_LENGTH = 8
MAX_LENGTH = 256


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    EQUALS_EMAIL = "equals_email"
    TOO_COMMON = "too_common"


_MESSAGES = {
    PasswordProblem.TOO_SHORT: f"must be at least {MIN_LENGTH} characters",
    PasswordProblem.TOO_LONG: f"must be at most {MAX_LENGTH} characters",
    PasswordProblem.EQUALS_EMAIL: "must not be the email address",
    PasswordProblem.TOO_COMMON: "is too common",
}


def describe(problem: PasswordProblem) -> str:
    return _MESSAGES[problem]


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = (
        resources.files("identity.domain").joinpath("common_passwords.txt").read_text()
    )
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, email: EmailAddress) -> list[PasswordProblem]:
    """Every rule the password breaks; empty when it is acceptable.

    Equality with the address (or its local part) and membership of the common
    list ignore case and surrounding blanks: neither makes a password stronger.
    """
    if len(password) < MIN_LENGTH:
        return [PasswordProblem.TOO_SHORT]
    if len(password) > MAX_LENGTH:
        return [PasswordProblem.TOO_LONG]
    folded = password.strip().casefold()
    problems = []
    if folded in {email.canonical, email.local_part.casefold()}:
        problems.append(PasswordProblem.EQUALS_EMAIL)
    if folded in common_passwords():
        problems.append(PasswordProblem.TOO_COMMON)
    return problems
