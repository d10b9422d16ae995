"""Problems found in a site config, and the one exception that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]
"""A key path inside the config, e.g. ``("services", 2, "numbers", "end")``."""


def format_path(loc: Loc) -> str:
    """``("services", 2, "numbers", "end")`` → ``services[2].numbers.end``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(part))
            out += f".{text}" if out else text
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where (key path, 1-based line) and what to do."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.path}: {self.message}{where}"


class ConfigError(Exception):
    """The config cannot be used. ``problems`` lists every problem found; ``str()`` gives one per line."""

    def __init__(self, problems: Sequence[Problem], source: str = "<string>") -> None:
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> str:
        """A heading naming the file, then the problems indented, for ``qms config check``."""
        n = len(self.problems)
        head = f"{self.source}: {n} problem{'s' if n != 1 else ''} found"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class Problems(ValueError):
    """Raised inside validators to report several problems at once.

    Each item is a key path relative to the validated object, and a message. The loader turns
    them into :class:`Problem` rows with line numbers; plain pydantic users get one joined message.
    """

    def __init__(self, items: Sequence[tuple[Loc, str]]) -> None:
        self.items: list[tuple[Loc, str]] = list(items)
        super().__init__("; ".join(f"{format_path(loc) if loc else ''}: {msg}" for loc, msg in self.items))
