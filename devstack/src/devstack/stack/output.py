"""The launcher's terminal: child output prefixed and coloured per process."""

from rich.console import Console
from rich.text import Text

from devstack.stack.table import ProcessSpec


class StackOutput:
    """Writes each child line as ``name | line`` and the launcher's own notes."""

    def __init__(
        self, console: Console | None = None, errors: Console | None = None
    ) -> None:
        self.console = console or Console(highlight=False)
        self.errors = errors or (
            self.console if console else Console(stderr=True, highlight=False)
        )
        self._width = 8

    def align(self, names: list[str]) -> None:
        self._width = max([self._width, *map(len, names)])

    def line(self, spec: ProcessSpec, text: str) -> None:
        prefix = Text(f"{spec.name:<{self._width}} | ", style=spec.colour)
        self.console.print(prefix + Text.from_ansi(text), soft_wrap=True)

    def note(self, text: str, style: str = "bold") -> None:
        prefix = f"{'devstack':<{self._width}} | "
        self.console.print(Text(prefix + text, style=style), soft_wrap=True)

    def error(self, text: str) -> None:
        prefix = f"{'devstack':<{self._width}} | "
        self.errors.print(Text(prefix + text, style="bold red"), soft_wrap=True)

    def summary(self, title: str, rows: list[tuple[str, str]]) -> None:
        width = max(len(label) for label, _ in rows)
        self.note(title, "bold green")
        for label, value in rows:
            self.note(f"  {label:<{width}}  {value}", "bold")
