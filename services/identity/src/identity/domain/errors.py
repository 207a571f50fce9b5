"""The errors of the identity service; the HTTP edge maps each to a problem."""


class IdentityError(Exception):
    """Base of every error the identity service raises on purpose."""


class CorruptStream(IdentityError):
    """A stream whose events cannot be folded (a bug or a manual edit)."""


class ConcurrencyConflict(IdentityError):
    """Another writer appended to the stream first: reload and decide again."""
