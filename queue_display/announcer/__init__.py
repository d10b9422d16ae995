"""The hall display's announcer: chime plus a spoken call built from voice-pack clips.

Pure parts: :mod:`.vi_numbers` (Vietnamese number words), :mod:`.sequence` (clip sequences).
Edges: :mod:`.render` (WAV concatenation), :mod:`.player` (queue, worker thread, playback backends),
:mod:`.build` (espeak-ng pack generation).
"""

from .pack import MissingClipError, PackError, VoicePack, load_pack
from .player import (
    Announcer,
    AplayBackend,
    AudioUnavailable,
    FileSinkBackend,
    KivySoundBackend,
    NullBackend,
    PlaybackBackend,
    make_backend,
)
from .render import render_announcement, render_tokens
from .sequence import PAUSE, announcement_tokens, spell
from .vi_numbers import digit_words, join_words, number_words

__all__ = [
    "PAUSE",
    "Announcer",
    "AplayBackend",
    "AudioUnavailable",
    "FileSinkBackend",
    "KivySoundBackend",
    "MissingClipError",
    "NullBackend",
    "PackError",
    "PlaybackBackend",
    "VoicePack",
    "announcement_tokens",
    "digit_words",
    "join_words",
    "load_pack",
    "make_backend",
    "number_words",
    "render_announcement",
    "render_tokens",
    "spell",
]
