"""espeak-ng synthesis into the pack format (used by the pack builder and the fallback)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .wavio import FORMAT, AudioFormat, ClipFormatError, read_wav

DEFAULT_SPEED = 140  # words per minute: slower than espeak's 175, clearer in a noisy hall
DEFAULT_AMPLITUDE = 70  # espeak's default 100 peaks at full scale; 70 leaves headroom


class TTSUnavailable(RuntimeError):
    """espeak-ng is not installed (``apt install espeak-ng``)."""


def espeak_binary() -> str | None:
    """Path of ``espeak-ng`` (or legacy ``espeak``), or None."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


def synthesize(text: str, voice: str, speed: int = DEFAULT_SPEED, amplitude: int = DEFAULT_AMPLITUDE,
               pitch: int = 50, timeout: float = 30.0) -> tuple[AudioFormat, bytes]:
    """Speak ``text`` with espeak-ng into PCM frames in :data:`FORMAT` (converted with sox if needed)."""
    binary = espeak_binary()
    if binary is None:
        raise TTSUnavailable("espeak-ng not found: install it with `apt install espeak-ng`")
    with tempfile.TemporaryDirectory(prefix="qms-tts-") as tmp:
        raw = Path(tmp) / "raw.wav"
        cmd = [binary, "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), "-w", str(raw), "--", text]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0 or not raw.is_file():
            raise RuntimeError(f"espeak-ng failed for {text!r} (voice {voice!r}): {proc.stderr.strip()}")
        fmt, frames = read_wav(raw)
        if fmt != FORMAT:
            fmt, frames = _convert(raw, Path(tmp) / "conv.wav")
    return fmt, frames


def _convert(src: Path, dst: Path) -> tuple[AudioFormat, bytes]:
    sox = shutil.which("sox")
    if sox is None:
        raise ClipFormatError(f"{src}: synthesised in a format other than {FORMAT} and sox is missing")
    cmd = [sox, str(src), "-r", str(FORMAT.rate), "-c", str(FORMAT.channels), "-b", str(8 * FORMAT.sampwidth), str(dst)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)
    return read_wav(dst)
