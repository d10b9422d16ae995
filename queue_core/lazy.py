"""Names a package exports, each imported from its module on first use (PEP 562).

A device that names only a few of a package's exports then loads only their modules (issue 15: the
kiosk's memory and the CLI's start-up). Used by ``queue_core``, ``qms.config`` and ``devices.printer``;
it lives here, in the lowest layer, because ``queue_core`` may import nothing else of the project.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose export ``name`` is in its module ``where[name]``.

    In the package: ``__getattr__, __dir__ = lazy_exports(__name__, {"Engine": "engine", ...})``.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # the next lookup finds it without this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
