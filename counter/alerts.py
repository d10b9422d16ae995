"""What the pad warns staff about: printers out of paper or offline, displays that cannot speak.

Pure: payloads of retained ``state/device/{id}`` and ``status/{client_id}`` in, one line of text out
(None when all is well). Every pad shows the lines until the device reports it is fixed.
"""

from __future__ import annotations

from typing import Any

from ui_kit.i18n import tr

PRINTER_PROBLEMS = ("paper_out", "paper_low", "offline", "error")
SILENT_AUDIO = ("no_device", "no_pack")  # a display that shows calls but cannot say them


def _suffix(device_id: str) -> str:
    """``kiosk-1`` → ``1``; other ids as they are."""
    _kind, sep, rest = device_id.partition("-")
    return rest if sep and rest else device_id


def printer_alert(device_id: str, payload: dict[str, Any], lang: str) -> str | None:
    """The line for a kiosk printer's retained state, or None when it prints."""
    state = str(payload.get("state") or "")
    if payload.get("kind", "printer") != "printer" or state not in PRINTER_PROBLEMS:
        return None
    return tr(f"counter.alert.printer.{state}", lang, device=_suffix(device_id),
              detail=str(payload.get("detail") or state))


def display_alert(client_id: str, payload: dict[str, Any], lang: str) -> str | None:
    """The line for a display's retained status: gone, or silent (no audio device, no voice pack)."""
    if not client_id.startswith("display-"):
        return None
    device = _suffix(client_id)
    if payload.get("online") is False:
        return tr("counter.alert.display.offline", lang, device=device)
    audio = payload.get("audio")
    state = str(audio.get("state") or "") if isinstance(audio, dict) else ""
    if state in SILENT_AUDIO:
        detail = str(audio.get("detail") or "") if isinstance(audio, dict) else ""
        return tr(f"counter.alert.display.{state}", lang, device=device, detail=detail)
    return None
