"""The caught messages, newest first, bounded in number."""

from collections import deque

from devstack.mailbox.message import MailMessage


class MailStore:
    """Keeps the newest ``capacity`` messages; older ones fall out."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._messages: deque[MailMessage] = deque(maxlen=capacity)

    def add(self, messages: list[MailMessage]) -> None:
        self._messages.extend(messages)

    def messages(self, to: str | None = None) -> list[MailMessage]:
        """Newest first; ``to`` matches the whole address, ignoring case."""
        wanted = to.strip().casefold() if to else None
        return [
            message
            for message in reversed(self._messages)
            if wanted is None or message.to.casefold() == wanted
        ]

    def get(self, message_id: str) -> MailMessage | None:
        return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> None:
        self._messages.clear()

    def __len__(self) -> int:
        return len(self._messages)
