"""What every ``qms setup`` step shares: the :class:`Prompter` that asks, the :class:`Answers` saved at the end,
and :class:`NotSaved` (used by :mod:`qms.setup_wizard` and :mod:`qms.setup_province`, which imports no wizard)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


class NotSaved(Exception):
    """The technician declined to save (e.g. an unverified broker): nothing is written."""


@dataclass
class Answers:
    """Everything to save at the end: env file lines and broker passwords (never printed)."""

    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: dict[Path, str | None] = field(default_factory=dict)  # config files to write (None: remove)


class Prompter:
    """Questions on a terminal (or any pair of text streams, for tests)."""

    def __init__(self, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
        self.inp, self.out = inp, out

    def say(self, text: str = "") -> None:
        """Print a line."""
        print(text, file=self.out, flush=True)

    def ask(self, question: str, default: str = "") -> str:
        """A free answer (Enter keeps the default)."""
        suffix = f" [{default}]" if default else ""
        print(f"{question}{suffix}: ", end="", file=self.out, flush=True)
        line = self.inp.readline()
        if not line:
            raise EOFError("no more answers")
        return line.strip() or default

    def secret(self, question: str) -> str:
        """A password: hidden on a terminal (``getpass``), read as a plain line from a pipe; never echoed."""
        if self.inp.isatty():
            return getpass.getpass(f"{question}: ", stream=self.out)
        print(f"{question}: ", end="", file=self.out, flush=True)
        line = self.inp.readline()
        if not line:
            raise EOFError("no more answers")
        print(file=self.out, flush=True)
        return line.rstrip("\r\n")

    def yes(self, question: str, default: bool = True) -> bool:
        """A yes/no answer: c/có/y/yes or k/không/n/no."""
        answer = self.ask(f"{question} (c/k = y/n)", "c" if default else "k").lower()
        return answer.startswith(("y", "c"))  # yes / có

    def choose(self, question: str, options: Sequence[str], default: int = 1) -> int:
        """Pick a numbered option; returns its index (0-based)."""
        for i, option in enumerate(options, start=1):
            self.say(f"  {i}. {option}")
        while True:
            answer = self.ask(question, str(default))
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.say(f"  gõ một số từ 1 đến {len(options)} / type a number from 1 to {len(options)}")
