"""Small PCM WAV helpers on the stdlib ``wave`` module (no numpy)."""

from __future__ import annotations

import io
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AudioFormat:
    """PCM layout of a clip."""

    rate: int
    channels: int
    sampwidth: int

    def __str__(self) -> str:
        return f"{self.rate} Hz, {self.channels} ch, {8 * self.sampwidth}-bit"


#: The one format every clip of a pack (and the chime) is built in.
FORMAT = AudioFormat(rate=22050, channels=1, sampwidth=2)
SOX_HINT = f"convert it with: sox IN.wav -r {FORMAT.rate} -c {FORMAT.channels} -b {8 * FORMAT.sampwidth} OUT.wav"


class ClipFormatError(ValueError):
    """A clip is not a readable PCM WAV, or not in the expected format."""


def read_wav(path: Path | str) -> tuple[AudioFormat, bytes]:
    """Format and raw frames of a PCM WAV file; :class:`ClipFormatError` names the file."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = AudioFormat(w.getframerate(), w.getnchannels(), w.getsampwidth())
            return fmt, w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ClipFormatError(f"{path}: not a PCM WAV file ({exc}); {SOX_HINT}") from None


def wav_bytes(fmt: AudioFormat, frames: bytes) -> bytes:
    """A complete WAV file in memory."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(fmt.channels)
        w.setsampwidth(fmt.sampwidth)
        w.setframerate(fmt.rate)
        w.writeframes(frames)
    return buf.getvalue()


def silence(fmt: AudioFormat, ms: int) -> bytes:
    """``ms`` milliseconds of digital silence (8-bit WAV is unsigned: silence is 0x80)."""
    n = fmt.rate * max(ms, 0) // 1000 * fmt.channels * fmt.sampwidth
    return (b"\x80" if fmt.sampwidth == 1 else b"\x00") * n


def trim_silence(frames: bytes, fmt: AudioFormat, threshold: float = 0.01, margin_ms: int = 15) -> bytes:
    """Cut leading/trailing near-silence from 16-bit audio, keeping a small margin."""
    if fmt.sampwidth != 2 or not frames:
        return frames
    samples = array("h", frames)
    limit = int(32767 * threshold)
    first = next((i for i, s in enumerate(samples) if abs(s) > limit), None)
    if first is None:
        return b""
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > limit)
    margin = fmt.rate * margin_ms // 1000 * fmt.channels
    start = max(0, (first - margin) // fmt.channels * fmt.channels)
    end = min(len(samples), (last + margin) // fmt.channels * fmt.channels + fmt.channels)
    return samples[start:end].tobytes()


def duration_s(wav: bytes) -> float:
    """Length in seconds of an in-memory WAV."""
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.getnframes() / w.getframerate()


def compress_silence(frames: bytes, fmt: AudioFormat, max_gap_ms: int = 80, threshold: float = 0.01,
                     window_ms: int = 5) -> bytes:
    """Shorten every stretch of near-silence inside 16-bit audio to at most ``max_gap_ms``.

    Only whole windows quieter than ``threshold`` are cut, from the middle of a pause, so no sound
    (and no syllable) is touched.
    """
    if fmt.sampwidth != 2 or not frames:
        return frames
    samples = array("h", frames)
    limit = int(32767 * threshold)
    step = max(fmt.rate * window_ms // 1000, 1) * fmt.channels
    keep = fmt.rate * max_gap_ms // 1000 * fmt.channels
    out = array("h")
    run_start: int | None = None

    def close_run(end: int) -> None:
        run = end - run_start  # type: ignore[operator]
        if run > keep:
            half = keep // 2 // fmt.channels * fmt.channels
            out.extend(samples[run_start:run_start + half])  # type: ignore[operator]
            out.extend(samples[end - (keep - half):end])
        else:
            out.extend(samples[run_start:end])

    for i in range(0, len(samples), step):
        chunk = samples[i:i + step]
        if max(abs(s) for s in chunk) <= limit:
            if run_start is None:
                run_start = i
            continue
        if run_start is not None:
            close_run(i)
            run_start = None
        out.extend(chunk)
    if run_start is not None:
        close_run(len(samples))
    return out.tobytes()
