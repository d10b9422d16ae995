"""Concatenate a token sequence's clips into one WAV, with short silences between tokens."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from .pack import CHIME, MissingClipError, PackError, VoicePack
from .sequence import PAUSE, tokens_text
from .tts import DEFAULT_AMPLITUDE, DEFAULT_SPEED, espeak_binary, synthesize
from .wavio import SOX_HINT, AudioFormat, ClipFormatError, read_wav, silence, wav_bytes

log = logging.getLogger(__name__)

GAP_MS = 70          # between words
CHIME_GAP_MS = 150   # after the chime
PAUSE_MS = 500       # the PAUSE token, between repetitions


@functools.lru_cache(maxsize=512)
def _clip(path: str, _mtime_ns: int) -> tuple[AudioFormat, bytes]:
    return read_wav(path)


def load_clip(pack: VoicePack, token: str) -> tuple[AudioFormat, bytes]:
    """Format and frames of ``token``'s clip (cached until the file changes)."""
    path = pack.clip_path(token)
    return _clip(str(path), path.stat().st_mtime_ns)


def render_tokens(tokens: list[str], pack: VoicePack, *, gap_ms: int = GAP_MS,
                  chime_gap_ms: int = CHIME_GAP_MS, pause_ms: int = PAUSE_MS) -> bytes:
    """One WAV for ``tokens``; all clips must share the first clip's format.

    Raises :class:`MissingClipError` or :class:`ClipFormatError`, each naming the token, clip and pack.
    """
    fmt: AudioFormat | None = None
    parts: list[bytes | int] = []  # frames, or a silence length in ms
    for i, token in enumerate(tokens):
        if token == PAUSE:
            parts.append(pause_ms)
            continue
        clip_fmt, frames = load_clip(pack, token)
        if fmt is None:
            fmt = clip_fmt
        elif clip_fmt != fmt:
            raise ClipFormatError(
                f"voice pack {pack.name!r}: clip for token {token!r} ({pack.clip_path(token)}) is {clip_fmt}, "
                f"but earlier clips are {fmt}; {SOX_HINT}"
            )
        parts.append(frames)
        if i + 1 < len(tokens) and tokens[i + 1] != PAUSE:
            parts.append(chime_gap_ms if token == CHIME else gap_ms)
    if fmt is None:
        raise PackError("nothing to render: empty token sequence")
    return wav_bytes(fmt, b"".join(p if isinstance(p, bytes) else silence(fmt, p) for p in parts))


def render_spoken(tokens: list[str], pack: VoicePack) -> bytes:
    """Fallback: the chime (if usable) then the whole sentence spoken by espeak-ng in one go."""
    voice = str(pack.tts.get("voice", pack.language.code))
    text = " ".join(pack.speech_text(t) for t in tokens if t not in (CHIME, PAUSE))
    fmt, frames = synthesize(text, voice, int(pack.tts.get("speed", DEFAULT_SPEED)),
                             int(pack.tts.get("amplitude", DEFAULT_AMPLITUDE)))
    if CHIME in tokens:
        try:
            chime_fmt, chime = load_clip(pack, CHIME)
            if chime_fmt == fmt:
                frames = chime + silence(fmt, CHIME_GAP_MS) + frames
        except (PackError, ClipFormatError) as exc:
            log.warning("chime skipped: %s", exc)
    return wav_bytes(fmt, frames)


def render_announcement(tokens: list[str], pack: VoicePack, *, fallback: bool = True) -> bytes:
    """Render from clips; on a missing or mismatched clip fall back to espeak-ng when allowed and installed."""
    try:
        return render_tokens(tokens, pack)
    except (MissingClipError, ClipFormatError) as exc:
        if not (fallback and espeak_binary()):
            raise
        log.warning("%s — speaking %r with espeak-ng instead", exc, tokens_text(tokens))
        return render_spoken(tokens, pack)


def write_announcement(tokens: list[str], pack: VoicePack, path: Path | str) -> Path:
    """Render and write to ``path``."""
    path = Path(path)
    path.write_bytes(render_announcement(tokens, pack))
    return path


def render_parts(parts: list[list[str]], pack: VoicePack, *, sep_ms: int = 250, lead_ms: int = 0,
                 gap_ms: int = GAP_MS) -> tuple[bytes, list[float]]:
    """One WAV of several token lists separated by ``sep_ms`` of silence (``lead_ms`` before the first),
    and where each part starts (s)."""
    fmt: AudioFormat | None = None
    frames: list[bytes] = []
    offsets: list[float] = []
    at = 0
    for i, tokens in enumerate(parts):
        part_fmt, part = read_frames(render_tokens(tokens, pack, gap_ms=gap_ms))
        if fmt is None:
            fmt = part_fmt
        if i or lead_ms:
            gap = silence(fmt, sep_ms if i else lead_ms)
            frames.append(gap)
            at += len(gap)
        offsets.append(at / (fmt.rate * fmt.channels * fmt.sampwidth))
        frames.append(part)
        at += len(part)
    if fmt is None:
        raise PackError("nothing to render: no parts")
    return wav_bytes(fmt, b"".join(frames)), offsets


def read_frames(wav: bytes) -> tuple[AudioFormat, bytes]:
    """Format and frames of an in-memory WAV."""
    import io
    import wave

    with wave.open(io.BytesIO(wav), "rb") as w:
        return AudioFormat(w.getframerate(), w.getnchannels(), w.getsampwidth()), w.readframes(w.getnframes())
