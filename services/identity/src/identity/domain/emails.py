"""Email addresses: the one place where typed input becomes an address.

Every lookup, counter and uniqueness check uses :attr:`EmailAddress.canonical`;
events and emails use :attr:`EmailAddress.address`, the form that was stored.
"""

import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

MAX_INPUT_CHARS = 320
"""Longer input is refused before any parsing work is spent on it."""

MAX_LOCAL_OCTETS = 64
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_LINE_BREAKS_AND_NUL = frozenset("\r\n\x00")


class InvalidEmail(ValueError):
    """The input is not an address we accept; the message says why."""


@dataclass(frozen=True)
class EmailAddress:
    """A normalised address.

    ``address``: trimmed, NFKC, domain lower-cased and IDNA-encoded (ASCII).
    ``canonical``: the same with the local part case-folded too; two inputs
    denote the same account exactly when their canonical forms are equal.
    """

    address: str
    canonical: str

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]


def normalise_email(raw: str) -> EmailAddress:
    """The address typed as ``raw``, or :class:`InvalidEmail` saying why not."""
    if len(raw) > MAX_INPUT_CHARS:
        raise InvalidEmail(f"longer than {MAX_INPUT_CHARS} characters")
    if not _LINE_BREAKS_AND_NUL.isdisjoint(raw):
        raise InvalidEmail("contains a line break or NUL")  # even at the ends
    text = unicodedata.normalize("NFKC", raw.strip())
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise InvalidEmail("contains control or invisible characters")
    try:
        parsed = validate_email(
            text,
            check_deliverability=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    local = unicodedata.normalize("NFKC", parsed.local_part)
    if len(local.encode()) > MAX_LOCAL_OCTETS:
        raise InvalidEmail(f"more than {MAX_LOCAL_OCTETS} octets before the @-sign")
    domain = parsed.ascii_domain.lower()
    canonical_local = unicodedata.normalize("NFKC", local.casefold())
    return EmailAddress(
        address=f"{local}@{domain}", canonical=f"{canonical_local}@{domain}"
    )
