"""The voice device: the hall display's announcer (chime plus a spoken call built from voice-pack
clips) and the kiosk's spoken guidance share it.

Pure parts: :mod:`.vi_numbers` / :mod:`.en_numbers` (number words), :mod:`.languages` (reading
rules), :mod:`.sequence` (clip sequences), :mod:`.pack` (voice packs).
Edges: :mod:`.render` (WAV concatenation), :mod:`.player` (playback backends: the one ``aplay`` /
``paplay`` command line), :mod:`.announcer` (queue and worker thread), :mod:`.tts` and :mod:`.build`
(espeak-ng), :mod:`.wavio` (WAV files). No Kivy (the apps add their Kivy sound backend:
:mod:`ui_kit.sound`) and nothing of the apps.
"""

from .announcer import Announcer
from .pack import MissingClipError, PackError, VoicePack, load_pack
from .player import (
    AplayBackend,
    AudioUnavailable,
    FileSinkBackend,
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
