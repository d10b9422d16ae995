#!/usr/bin/env python3
"""Build a voice pack's clips with espeak-ng, regenerate the chime, or check a recorded pack.

    python scripts/build_voice_pack.py --lang vi --out assets/voice/vi
    python scripts/build_voice_pack.py --lang en --out assets/voice/en
    python scripts/build_voice_pack.py --chime assets/sounds/chime.wav
    python scripts/build_voice_pack.py --check assets/voice/kho
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.voice.build import build_pack
from devices.voice.chime import write_chime
from devices.voice.pack import PackError, load_pack
from devices.voice.render import load_clip
from devices.voice.tts import TTSUnavailable
from devices.voice.wavio import FORMAT, ClipFormatError

__all__ = ["build_pack", "check_pack", "main"]


def check_pack(directory: Path) -> list[str]:
    """Problems of a pack folder (missing clips, unreadable or off-format WAVs); empty when fine."""
    pack = load_pack(directory)
    missing = pack.missing()
    problems = [f"no clip for token {t!r}" for t in missing]
    for token in pack.clips:
        if token in missing:
            continue
        try:
            fmt, _ = load_clip(pack, token)
            if fmt != FORMAT:
                problems.append(f"{pack.clip_path(token)} is {fmt}, expected {FORMAT}")
        except (PackError, ClipFormatError) as exc:
            problems.append(str(exc))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lang", help="pack to build (its committed pack.json is in assets/voice/<lang>)")
    ap.add_argument("--out", type=Path, help="output folder (default: assets/voice/<lang>)")
    ap.add_argument("--force", action="store_true", help="re-synthesise clips that already exist")
    ap.add_argument("--chime", type=Path, metavar="WAV", help="write the procedural chime to WAV")
    ap.add_argument("--check", type=Path, metavar="DIR", help="check a pack folder and list problems")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if not (args.lang or args.chime or args.check):
        ap.error("give --lang, --chime or --check")
    try:
        if args.chime:
            print(f"chime: {write_chime(args.chime)}")
        if args.lang:
            out = args.out or Path(__file__).resolve().parents[1] / "assets" / "voice" / args.lang
            pack = build_pack(args.lang, out, force=args.force)
            print(f"voice pack {args.lang}: {len(pack.clips)} clips in {out}")
        if args.check:
            problems = check_pack(args.check)
            for p in problems:
                print(f"problem: {p}")
            print(f"{args.check}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
            return 1 if problems else 0
    except (TTSUnavailable, PackError, ClipFormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
