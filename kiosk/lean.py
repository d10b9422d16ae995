"""Keep the kiosk process lean (issue 15: kiosk memory): packages it never uses are not loaded.

Pillow 10 imports numpy (~14 MB resident) only to name its array type for type checkers
(``PIL._typing``); Kivy imports Pillow for its image provider, so every Kivy app would carry numpy.
The kiosk never hands an image to numpy, so it marks numpy as absent before Kivy is imported: Pillow
then skips that optional import (its ``try: import numpy`` falls back), and nothing else needs it.
"""

from __future__ import annotations

import sys

UNUSED = ("numpy",)
"""Optional dependencies of the kiosk's libraries that the kiosk does not use."""


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED` as not installed for this process (call before importing Kivy or Pillow);
    a package already loaded is left alone."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  (None: "import numpy" raises ImportError)
