"""Why a use case refused: each maps to one problem at the HTTP edge."""

from dataclasses import dataclass, field

from identity.domain.errors import IdentityError


@dataclass
class InvalidInput(IdentityError):
    """Input that breaks a rule (email syntax, password policy): 422."""

    errors: list[dict[str, object]] = field(default_factory=list)


class InvalidCredentials(IdentityError):
    """Wrong password or unknown address, told apart by nobody: 401."""


class EmailNotVerified(IdentityError):
    """The password was right, the address is not verified yet: 403."""


@dataclass
class AccountIsLocked(IdentityError):
    """Too many failures; every attempt is refused until then: 423."""

    retry_after: int


class InvalidOrExpiredToken(IdentityError):
    """A verification or reset token that is unknown, used, superseded or old: 400."""


class InvalidAccessToken(IdentityError):
    """Missing, malformed, forged, expired, revoked or superseded: 401."""


class Busy(IdentityError):
    """Too many concurrent writers on one stream kept winning: 503, retry."""
