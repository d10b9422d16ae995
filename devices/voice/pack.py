"""Voice packs: a folder with ``pack.json`` that maps tokens to WAV clips.

``pack.json`` (format 1)::

    {
      "format": 1,
      "name": "Tiếng Việt (espeak-ng)",
      "rules": "vi",                       # built-in reading rules: "vi" or "en"
      "mode": "digits",                    # optional: force digit-by-digit reading
      "letters": {"D": "dê"},              # optional overrides: letter → token
      "digits": ["...", ...],              # optional: ten tokens for 0..9 (digits mode)
      "phrases": {"call": ["..."]},        # optional overrides: call / recall / to_counter
      "tts": {"voice": "vi", "speed": 140},   # only for packs generated with espeak-ng
      "say": {"token": "text to synthesise"}, # optional, generated packs only
      "clips": {"token": "file.wav", ...}  # paths relative to the pack folder
    }

A technician can drop a recorded pack (say ``assets/voice/kho/``) with its own ``pack.json``;
no code change is needed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .languages import GROUP_KEYS, PHRASE_KEYS, Language, get_language

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Folder holding one sub-folder per pack; ``$QMS_VOICE_DIR`` overrides it.
VOICE_ROOT = Path(os.environ.get("QMS_VOICE_DIR", REPO_ROOT / "assets" / "voice"))
DEFAULT_CHIME = REPO_ROOT / "assets" / "sounds" / "chime.wav"
CHIME = "chime"
MANIFEST = "pack.json"
MODES = ("words", "digits")


class PackError(ValueError):
    """A pack folder or manifest is unusable; the message names the file and the fix."""


class MissingClipError(PackError):
    """A token has no clip (not in the manifest, or its file is missing)."""

    def __init__(self, token: str, pack: VoicePack, detail: str) -> None:
        self.token, self.pack = token, pack
        super().__init__(
            f"voice pack {pack.name!r} ({pack.directory}) has no clip for token {token!r}: {detail}; "
            f"record it and list it in {MANIFEST} 'clips', or rebuild with scripts/build_voice_pack.py"
        )


@dataclass(frozen=True)
class VoicePack:
    """A loaded voice pack: effective reading rules plus the token → clip map."""

    name: str
    directory: Path
    language: Language
    clips: dict[str, str]
    mode: str | None = None
    tts: dict[str, Any] = field(default_factory=dict)
    say: dict[str, str] = field(default_factory=dict)
    chime: Path = DEFAULT_CHIME

    def clip_path(self, token: str) -> Path:
        """The WAV file for ``token``; :class:`MissingClipError` if absent."""
        if token == CHIME and CHIME not in self.clips:
            path = self.chime
        elif token not in self.clips:
            raise MissingClipError(token, self, "not listed in the manifest")
        else:
            path = self.directory / self.clips[token]
        if not path.is_file():
            raise MissingClipError(token, self, f"file {path} does not exist")
        return path

    def missing(self) -> list[str]:
        """Tokens the reading rules can produce that have no usable clip file."""
        out = []
        for token in [CHIME, *self.language.vocabulary(numbers=self.mode != "digits", group=False)]:
            try:
                self.clip_path(token)
            except MissingClipError:
                out.append(token)
        return out

    def has_clips(self, tokens: list[str]) -> bool:
        """Whether every token has a usable clip file (the optional backlog phrases may lack one)."""
        try:
            for token in tokens:
                self.clip_path(token)
        except MissingClipError:
            return False
        return True

    def speech_text(self, token: str) -> str:
        """The text to synthesise for ``token`` (itself unless ``say`` overrides it)."""
        return self.say.get(token, token)


def _str_map(data: Any, what: str, path: Path) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise PackError(f"{path}: {what!r} must be an object of strings")
    return dict(data)


def parse_manifest(data: Any, directory: Path, source: Path | None = None) -> VoicePack:
    """Build a :class:`VoicePack` from decoded ``pack.json`` data (validated, clear errors)."""
    where = source or directory / MANIFEST
    if not isinstance(data, dict) or data.get("format") != 1:
        raise PackError(f"{where}: expected a JSON object with \"format\": 1")
    try:
        base = get_language(str(data.get("rules", "")))
    except ValueError as exc:
        raise PackError(f"{where}: 'rules': {exc}") from None
    changes: dict[str, Any] = {}
    if "letters" in data:
        changes["letters"] = {**base.letters, **{k.upper(): v for k, v in _str_map(data["letters"], "letters", where).items()}}
    if "digits" in data:
        digits = data["digits"]
        if not isinstance(digits, list) or len(digits) != 10 or not all(isinstance(d, str) for d in digits):
            raise PackError(f"{where}: 'digits' must be a list of 10 tokens (0..9)")
        changes["digits"] = tuple(digits)
    if "phrases" in data:
        phrases = data["phrases"]
        if not isinstance(phrases, dict) or not set(phrases) <= {*PHRASE_KEYS, *GROUP_KEYS} or not all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in phrases.values()
        ):
            raise PackError(f"{where}: 'phrases' keys must be among {[*PHRASE_KEYS, *GROUP_KEYS]} with lists of tokens")
        changes["phrases"] = {**base.phrases, **{k: tuple(v) for k, v in phrases.items()}}
    mode = data.get("mode")
    if mode is not None and mode not in MODES:
        raise PackError(f"{where}: 'mode' must be one of {list(MODES)}")
    tts = data.get("tts", {})
    if not isinstance(tts, dict):
        raise PackError(f"{where}: 'tts' must be an object")
    return VoicePack(
        name=str(data.get("name", directory.name)),
        directory=directory,
        language=replace(base, **changes) if changes else base,
        clips=_str_map(data.get("clips", {}), "clips", where),
        mode=mode,
        tts=tts,
        say={**base.say, **_str_map(data.get("say", {}), "say", where)},
    )


def load_pack(pack: str | Path, voice_root: Path | None = None) -> VoicePack:
    """Load a pack by language code (``"vi"`` → ``<voice_root>/vi``) or by folder path."""
    directory = Path(pack)
    if not (directory / MANIFEST).is_file():
        directory = Path(voice_root or VOICE_ROOT) / str(pack)
    manifest = directory / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"no voice pack at {directory}: {MANIFEST} not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PackError(f"{manifest}: cannot read: {exc}") from None
    return parse_manifest(data, directory, manifest)
