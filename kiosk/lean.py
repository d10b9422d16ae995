"""Keep the kiosk process lean (issue 15: kiosk memory): packages it never uses are not loaded.

python-escpos parses its printer profiles (a 300 kB JSON, with PyYAML) on every start unless it finds
the pickle of an earlier parse in ``ESCPOS_CAPABILITIES_PICKLE_DIR``; unset, that is a new temporary
directory each time. :func:`reuse_printer_profiles` points it at the data dir's cache: ~3 MB less at the
first screen and ~0.5 s less start-up (python-escpos parses again when it is upgraded).

Pillow 10 imports numpy (~14 MB resident) only to name its array type for type checkers
(``PIL._typing``); Kivy imports Pillow for its image provider, so every Kivy app would carry numpy.
The kiosk never hands an image to numpy, so it marks numpy as absent before Kivy is imported: Pillow
then skips that optional import (its ``try: import numpy`` falls back), and nothing else needs it.
The same goes for ``ssl`` when the broker URL is plain ``mqtt://`` (~1.2 MB: the module, libssl):
asyncio (which Kivy's clock imports), paho and urllib import it only if it is there.

python-escpos imports qrcode and PyYAML when it is imported, but uses qrcode only to draw a QR code as
an image (``qr=image`` printers) and PyYAML only to parse its profiles when their pickle is stale.
:func:`defer_imports` puts a stand-in for each into ``sys.modules``: ``import qrcode`` binds the stand-in,
and the module's code runs when one of its names is first used (~1.1 MB less at the first screen when
neither is needed). The standard library's ``importlib.util.LazyLoader`` cannot do this on its own: the
``import`` statement reads the module's ``__spec__`` (is it still initialising?), and any attribute
read runs a LazyLoader module, so ``import qrcode`` in python-escpos ran it at once (measured).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any

UNUSED = ("numpy",)
"""Optional dependencies of the kiosk's libraries that the kiosk does not use."""
TLS = ("ssl",)
"""Optional dependencies that only a TLS broker (``mqtts://``) needs."""
DEFERRED = ("qrcode", "yaml")
"""Modules python-escpos imports but the kiosk may never use: run on first use (:func:`defer_imports`)."""


def start_lean(cache_dir: Path, broker_url: str) -> None:
    """What ``qms kiosk`` does first, before Kivy, Pillow and python-escpos are imported: unused packages
    marked absent (``ssl`` unless ``broker_url`` is ``mqtts://``), qrcode and PyYAML deferred, the printer
    profiles' cache in ``cache_dir``."""
    from mqtt_bus.url import parse_broker_url

    skip_unused_imports(tls=parse_broker_url(broker_url).tls)
    defer_imports()
    reuse_printer_profiles(cache_dir)


def skip_unused_imports(tls: bool = True) -> None:
    """Mark :data:`UNUSED` (and :data:`TLS` unless ``tls``) as not installed for this process (call
    before importing Kivy or Pillow); a package already loaded is left alone."""
    for name in UNUSED if tls else UNUSED + TLS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  (None: "import numpy" raises ImportError)


class DeferredModule(types.ModuleType):
    """A module whose code has not run yet: it runs, once, when a name of the module is first read or
    set (``__spec__`` aside, which the ``import`` statement reads). The module object stays the same."""

    def __getattribute__(self, name: str) -> Any:
        if name != "__spec__":
            _run(self)
        return types.ModuleType.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        _run(self)
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _run(self)
        types.ModuleType.__delattr__(self, name)


class _Pending:
    """A deferred module's lock, and whether its code is running (on the thread holding the lock)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.running = False


_pending: dict[str, _Pending] = {}


def _run(module: DeferredModule) -> None:
    """Run a deferred module's code (other threads wait for it; its own imports, re-entrant, pass)."""
    spec = types.ModuleType.__getattribute__(module, "__spec__")
    pending = _pending[spec.name]
    with pending.lock:
        if type(module) is not DeferredModule or pending.running:
            return  # already run, or its own code (an import of a submodule) reading it while it runs
        pending.running = True
        try:
            spec.loader.exec_module(module)
        finally:
            pending.running = False
        object.__setattr__(module, "__class__", types.ModuleType)


def defer_imports(names: tuple[str, ...] = DEFERRED) -> None:
    """Put a :class:`DeferredModule` for each of ``names`` into ``sys.modules`` (call before importing
    python-escpos); a module already loaded, or not installed, is left alone."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        _pending[name] = _Pending()
        module.__class__ = DeferredModule
        sys.modules[name] = module


def deferred(name: str) -> bool:
    """True while ``name`` is a deferred module whose code has not run."""
    return type(sys.modules.get(name)) is DeferredModule


def reuse_printer_profiles(cache_dir: Path) -> None:
    """Keep python-escpos' parsed printer profiles in ``cache_dir/escpos`` (call before importing escpos);
    an explicit ``ESCPOS_CAPABILITIES_PICKLE_DIR`` wins, a folder that cannot be made is skipped."""
    folder = cache_dir / "escpos"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))
