"""Command-line options of this app (the ``qms`` parser calls ``add_arguments``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the options of ``qms VERB`` (this package may serve several verbs)."""
