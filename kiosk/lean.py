"""Keep the kiosk process lean (issue 15: kiosk memory): packages it never uses are not loaded.

python-escpos parses its printer profiles (a 300 kB JSON, with PyYAML) on every start unless it finds
the pickle of an earlier parse in ``ESCPOS_CAPABILITIES_PICKLE_DIR``; unset, that is a new temporary
directory each time. :func:`reuse_printer_profiles` points it at the data dir's cache: ~3 MB less at the
first screen and ~0.5 s less start-up (python-escpos parses again when it is upgraded).

Pillow 10 imports numpy (~14 MB resident) only to name its array type for type checkers
(``PIL._typing``); Kivy imports Pillow for its image provider, so every Kivy app would carry numpy.
The kiosk never hands an image to numpy, so it marks numpy as absent before Kivy is imported: Pillow
then skips that optional import (its ``try: import numpy`` falls back), and nothing else needs it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

UNUSED = ("numpy",)
"""Optional dependencies of the kiosk's libraries that the kiosk does not use."""


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED` as not installed for this process (call before importing Kivy or Pillow);
    a package already loaded is left alone."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  (None: "import numpy" raises ImportError)


def reuse_printer_profiles(cache_dir: Path) -> None:
    """Keep python-escpos' parsed printer profiles in ``cache_dir/escpos`` (call before importing escpos);
    an explicit ``ESCPOS_CAPABILITIES_PICKLE_DIR`` wins, a folder that cannot be made is skipped."""
    folder = cache_dir / "escpos"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))
