"""Generate a voice pack's clips with espeak-ng from its committed ``pack.json``.

The committed manifest is the phrase list; WAVs are build products (git-ignored). Every clip is
written in :data:`~.wavio.FORMAT` with leading/trailing silence trimmed and pauses inside shortened
(:func:`~.wavio.compress_silence`), so clips concatenate tightly.
"""

from __future__ import annotations

import json
import logging
import shutil
import unicodedata
from pathlib import Path

from .languages import get_language
from .pack import CHIME, MANIFEST, VOICE_ROOT, PackError, VoicePack, load_pack
from .tts import DEFAULT_AMPLITUDE, DEFAULT_SPEED, espeak_binary, synthesize
from .wavio import FORMAT, compress_silence, trim_silence, wav_bytes

log = logging.getLogger(__name__)

_TONES = {"\u0300": "f", "\u0301": "s", "\u0309": "r", "\u0303": "x", "\u0323": "j"}


def slug(token: str) -> str:
    """ASCII file stem for a token, Telex style so Vietnamese words stay distinct: ``mười`` → ``muwowif``."""
    words = []
    for word in token.lower().split():
        out, tone = "", ""
        for ch in unicodedata.normalize("NFD", word):
            if ch in _TONES:
                tone = _TONES[ch]
            elif ch == "\u0302" and out:  # circumflex: â → aa
                out += out[-1]
            elif ch in ("\u0306", "\u031b"):  # breve, horn: ă → aw, ơ → ow
                out += "w"
            elif ch == "đ":
                out += "dd"
            elif ch.isascii() and ch.isalnum():
                out += ch
        words.append(out + tone)
    return "_".join(w for w in words if w) or "x"


def default_manifest(lang: str, speed: int = DEFAULT_SPEED) -> dict:
    """A complete generated-pack manifest for a built-in language (the committed ``pack.json`` source)."""
    language = get_language(lang)
    clips = {token: f"{slug(token)}.wav" for token in language.vocabulary()}
    if len(set(clips.values())) != len(clips):
        raise PackError(f"clip file names collide for {lang!r}: {sorted(clips.values())}")
    return {
        "format": 1,
        "name": f"{lang} (espeak-ng, generated)",
        "rules": lang,
        "tts": {"engine": "espeak-ng", "voice": lang, "speed": speed, "amplitude": DEFAULT_AMPLITUDE},
        "clips": clips,
    }


def build_pack(lang: str, out_dir: Path | str, *, source_dir: Path | str | None = None,
               force: bool = False) -> VoicePack:
    """Synthesise every clip of pack ``lang`` into ``out_dir`` (copying its ``pack.json`` there).

    ``source_dir`` holds the committed manifest (default ``assets/voice/<lang>``). Existing clips are
    kept unless ``force``. Tokens the rules can produce but the manifest lacks are added.
    """
    out = Path(out_dir)
    source = Path(source_dir) if source_dir else VOICE_ROOT / lang
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    clips: dict[str, str] = manifest.setdefault("clips", {})
    for token in get_language(manifest.get("rules", lang)).vocabulary():
        if token not in clips:
            log.warning("pack %s: token %r missing from %s; adding it", lang, token, MANIFEST)
            clips[token] = f"{slug(token)}.wav"
    tts = manifest.get("tts", {})
    voice, speed = str(tts.get("voice", lang)), int(tts.get("speed", DEFAULT_SPEED))
    amplitude = int(tts.get("amplitude", DEFAULT_AMPLITUDE))
    out.mkdir(parents=True, exist_ok=True)
    say = {**get_language(manifest.get("rules", lang)).say, **manifest.get("say", {})}
    for token, name in clips.items():
        target = out / name
        if token == CHIME or (target.is_file() and not force):
            continue
        fmt, frames = synthesize(say.get(token, token), voice, speed, amplitude)
        frames = compress_silence(trim_silence(frames, fmt), fmt)
        if not frames:
            raise PackError(f"espeak-ng produced silence for token {token!r} (voice {voice!r})")
        target.write_bytes(wav_bytes(FORMAT, frames))
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return load_pack(out)


def ensure_pack(lang: str, *, voice_root: Path | None = None, cache_dir: Path | None = None) -> VoicePack:
    """Load pack ``lang``; if clips are missing and it is a generated pack, build them first.

    Builds into the pack folder, or into ``cache_dir/<lang>`` when the pack folder is read-only.
    """
    pack = load_pack(lang, voice_root)
    if not pack.missing() or not pack.tts or espeak_binary() is None:
        return pack
    target = pack.directory
    probe = target / ".write-test"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        if cache_dir is None:
            return pack
        target = Path(cache_dir) / lang
        if not (target / MANIFEST).is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(pack.directory / MANIFEST, target / MANIFEST)
    log.info("building voice pack %s into %s (espeak-ng)", lang, target)
    return build_pack(lang, target, source_dir=pack.directory)
