"""The notifier's errors; adapters translate library errors into these."""


class NotifierError(Exception):
    pass


class MalformedEvent(NotifierError):
    """An event that asks for a mail but can never yield one (dead-letter it)."""


class SmtpFailure(NotifierError):
    """The SMTP server did not take the message."""

    def __init__(self, message: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class DeliveryDeferred(NotifierError):
    """A transient failure: the consumer retries the event, within a bound."""


class DeliveryInFlight(NotifierError):
    """Another attempt holds the event; wait until it ends or its lease runs out."""


class LedgerUnavailable(NotifierError):
    """The notifier's database cannot be reached."""


class PublishFailed(NotifierError):
    """The broker did not acknowledge a notification event."""
