"""A fake voice pack of short beeps (one per token) for tests: no espeak-ng, instant to build."""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

from devices.voice.build import default_manifest
from devices.voice.pack import MANIFEST, VoicePack, load_pack
from devices.voice.wavio import FORMAT, AudioFormat, wav_bytes

CLIP_MS = 40


def beep(token: str, ms: int = CLIP_MS, fmt: AudioFormat = FORMAT) -> bytes:
    """A short tone (16-bit, any rate/channels) whose pitch is derived from ``token`` (so clips differ)."""
    freq = 300 + zlib.crc32(token.encode()) % 1500
    n = fmt.rate * ms // 1000
    frames = (struct.pack("<h", round(8000 * math.sin(2 * math.pi * freq * i / fmt.rate))) * fmt.channels
              for i in range(n))
    return wav_bytes(fmt, b"".join(frames))


def make_tone_pack(directory: Path | str, lang: str = "vi") -> VoicePack:
    """Write a complete pack for built-in language ``lang`` (beeps, chime included) and load it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = default_manifest(lang)
    manifest["name"] = f"{lang} (test beeps)"
    manifest["clips"]["chime"] = "chime.wav"
    for token, name in manifest["clips"].items():
        (directory / name).write_bytes(beep(token))
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return load_pack(directory)


def spoken_numbers(paths: list[Path]) -> list[str]:
    """Ticket numbers in the order the file backend wrote them: chime and sentence-opening files skipped,
    a repetition of the same call not counted again."""
    out: list[str] = []
    last: str | None = None
    for path in paths:
        label = path.name.split("-", 1)[1].removesuffix(".wav")
        if label.startswith(("chime_", "group_")):  # the chime, a backlog sentence's opening words
            continue
        if label != last:
            out += [part.split("_")[1] for part in label.split(".")]
        last = label
    return out
