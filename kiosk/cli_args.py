"""Command-line options of this app (the ``qms`` parser calls ``add_arguments``)."""

from __future__ import annotations

import argparse

DEFAULT_CLIENT_ID = "kiosk-1"


def add_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the options of ``qms VERB`` (this package may serve several verbs)."""
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, metavar="ID",
                        help="this kiosk's MQTT client id (and state/device/ID for its printer); default kiosk-1")
    parser.add_argument("--windowed", action="store_true",
                        help="a normal window instead of full screen kiosk mode (for a desk or a laptop)")
    parser.add_argument("--portrait", action="store_true",
                        help="portrait screen: a portrait window with --windowed; in full screen, turn the "
                             "picture 90° for a landscape panel mounted upright (leave off if the OS rotates it)")
    parser.add_argument("--no-voice", action="store_true", help="no spoken guidance (also kiosk.voice: false)")
    parser.add_argument("--any-time", action="store_true",
                        help="never show the closed screen (for a demo or a test at night); the hub must "
                             "also give tickets outside opening hours")
