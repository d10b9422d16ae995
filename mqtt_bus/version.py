"""This software's version, as every device reports it in its status (``setup.py`` reads it from here).

A constant, not ``importlib.metadata``: reading the installed package's metadata loads the ``email``
parser and its kin (~1.1 MB resident in the kiosk, issue 15) for one string.
"""

VERSION = "0.1.0"
