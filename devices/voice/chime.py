"""A procedural two-tone "ding-dong" chime (pure stdlib: ``math`` + ``wave``)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

from .wavio import FORMAT, wav_bytes

# E5 then C5: the classic descending major third of a door chime.
NOTES: tuple[tuple[float, float], ...] = ((659.25, 0.0), (523.25, 0.24))
LENGTH_S = 0.8  # short: a backlog of calls waits behind it
ATTACK_S = 0.012


#: The chime until issue 20 (1.8 s; the bench compares with it).
OLD = {"length_s": 1.8, "notes": ((659.25, 0.0), (523.25, 0.55)), "decay": 3.2}


def chime_frames(volume: float = 0.5, *, length_s: float = LENGTH_S,
                 notes: tuple[tuple[float, float], ...] = NOTES, decay: float = 5.0) -> bytes:
    """16-bit mono frames at :data:`FORMAT`: two bell-like tones with soft attack and decay."""
    rate = FORMAT.rate
    n = int(length_s * rate)
    out = [0.0] * n
    for freq, start in notes:
        first = int(start * rate)
        for i in range(n - first):
            t = i / rate
            attack = 0.5 - 0.5 * math.cos(math.pi * t / ATTACK_S) if t < ATTACK_S else 1.0
            env = attack * math.exp(-decay * t)
            # a bell: fundamental plus softer, faster-decaying partials
            tone = (math.sin(2 * math.pi * freq * t)
                    + 0.35 * math.exp(-2.0 * t) * math.sin(2 * math.pi * 2 * freq * t)
                    + 0.12 * math.exp(-4.0 * t) * math.sin(2 * math.pi * 3.01 * freq * t))
            out[first + i] += env * tone
    peak = max(abs(s) for s in out) or 1.0
    fade = int(0.05 * rate)
    for i in range(fade):  # end exactly at zero, no click
        out[n - 1 - i] *= i / fade
    scale = volume * 32767 / peak
    return struct.pack(f"<{n}h", *(round(s * scale) for s in out))


def write_chime(path: Path | str) -> Path:
    """Write the chime WAV to ``path`` (parents created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(FORMAT, chime_frames()))
    return path
