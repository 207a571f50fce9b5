"""Why the demo stopped, in a user's terms."""


class DemoError(Exception):
    """The demo cannot go on; the message says what to do."""


class ServiceUnavailable(DemoError):
    """A service of the stack does not answer."""
