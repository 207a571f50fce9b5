"""The local development stack of authtrail: broker, dev mailbox, supervisor."""

__version__ = "0.1.0"
