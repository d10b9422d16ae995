"""Command-line options of this app (the ``qms`` parser calls ``add_arguments``)."""

from __future__ import annotations

import argparse


def _audio(text: str) -> str:
    kind, _, arg = text.partition(":")
    if kind not in ("aplay", "paplay", "kivy", "file", "null") or (kind == "file" and not arg):
        raise argparse.ArgumentTypeError(f"--audio must be aplay[:DEVICE], paplay, kivy, file:DIR or null, got {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the options of ``qms VERB`` (this package may serve several verbs)."""
    screen = parser.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=True,
                        help="fullscreen, no cursor (default: the hall TV)")
    screen.add_argument("--windowed", dest="fullscreen", action="store_false", help="a normal window (desktop, demo)")
    parser.add_argument("--portrait", action="store_true", help="a TV mounted upright (1080x1920)")
    parser.add_argument("--lang", metavar="CODE", help="screen language (default: the site's first, vi)")
    parser.add_argument("--client-id", default="display-1", metavar="ID",
                        help="this display's MQTT client id (default display-1)")
    parser.add_argument("--audio", type=_audio, default="aplay", metavar="BACKEND",
                        help="aplay[:DEVICE] (default), paplay, kivy, file:DIR (writes WAVs) or null")
    parser.add_argument("--no-voice", action="store_true", help="no announcements (chime and voice off)")
    parser.add_argument("--voice", default="vi", metavar="PACK",
                        help="voice pack: a language code under assets/voice or a folder (default vi)")
    parser.add_argument("--led", metavar="URL",
                        help="per-counter LED boards, e.g. serial:///dev/ttyUSB1?baudrate=9600&protocol=generic")
    parser.add_argument("--led-map", metavar="C=ADDR,...",
                        help="LED address of each counter, e.g. 1=11,2=12 (default: the counter id)")
