"""Command-line options of this app (the ``qms`` parser calls ``add_arguments``)."""

from __future__ import annotations

import argparse


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 800x480, got {text!r}") from None
    return w, h


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("seconds must be 0 or more (0: no time limit)")
    return value


def add_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the options of ``qms VERB`` (this package serves ``counter-pad`` and ``rating``)."""
    parser.add_argument("--counter", required=True, metavar="ID", help="the counter id from the config, e.g. 2")
    parser.add_argument("--lang", metavar="CODE", help="screen language (default: the site's first language)")
    parser.add_argument("--size", type=_size, default=(800, 480), metavar="WxH", help="window size (default 800x480)")
    screen = parser.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=False,
                        help="fullscreen kiosk mode, no cursor (the Pi)")
    screen.add_argument("--windowed", dest="fullscreen", action="store_false",
                        help="a normal window (the default: an officer's PC, the demo)")
    parser.add_argument("--rating-timeout", type=_seconds, default=20.0, metavar="S",
                        help="seconds the citizen has to rate before the screen moves on (default 20)")
    if verb != "counter-pad":
        return
    parser.add_argument("--officer", metavar="NAME", help="sign this officer in at start (skips the sign-in screen)")
    parser.add_argument("--no-rating", action="store_true",
                        help="do not ask the citizen for a rating after Xong (e.g. a rating tablet is used)")
    parser.add_argument("--keypad", action="store_true",
                        help="a USB numeric keypad drives the counter (keys of the window, or stdin with --no-screen)")
    parser.add_argument("--keymap", metavar="FILE.json", help="key map for --keypad (see devices/keypad/README.md)")
    parser.add_argument("--beep", choices=("off", "bell", "aplay"), default="bell",
                        help="keypad feedback sound (default: the terminal bell)")
    parser.add_argument("--no-screen", action="store_true",
                        help="no window at all: keys from the terminal/stdin, answers printed (implies --keypad)")
