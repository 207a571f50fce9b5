"""The dev mailbox: catches outgoing mail of local runs and tests.

SMTP in, JSON out: ``GET /api/messages?to=<email>`` answers the caught
messages newest first (see CONTRACT.md, "Dev mailbox").
"""

from devstack.mailbox.message import MailMessage, extract_links, parse_message
from devstack.mailbox.server import DevMailbox
from devstack.mailbox.store import MailStore

__all__ = ["DevMailbox", "MailMessage", "MailStore", "extract_links", "parse_message"]
