"""The ``qms`` command imports only what its verb needs (issue 15: start-up time).

Each check runs a fresh interpreter and reads ``sys.modules`` after the command, so an import added
at module level anywhere on the path (``qms.cli``, ``devices.printer``, ...) makes it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINTING = {"escpos", "PIL", "numpy"}  # the printer's rendering stack
CONFIG = {"pydantic", "ruamel"}  # what validating the site config needs

RUN = """
import json, runpy, sys
sys.argv = ["qms", *json.loads(sys.argv[1])]
try:
    runpy.run_module("qms.cli", run_name="__main__")
except SystemExit:
    pass
print("\\n" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded_by(argv: list[str]) -> set[str]:
    """The top-level packages loaded once ``qms *argv`` has run."""
    env = {**os.environ, "QMS_ENV_FILE": "", "QMS_HEADLESS": "1"}
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(argv)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_neither_printing_nor_config():
    done = subprocess.run([sys.executable, "-c", "import json, sys, qms.cli; "
                           "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert not (PRINTING | CONFIG) & set(json.loads(done.stdout))


@pytest.mark.parametrize("argv", [["--help"], ["ticket", "issue", "--help"], ["report", "--help"]])
def test_help_loads_neither_printing_nor_config(argv):
    loaded = loaded_by(argv)
    assert "qms" in loaded
    assert not (PRINTING | CONFIG) & loaded


def test_issuing_a_ticket_does_not_load_the_printing_stack(tmp_path):
    loaded = loaded_by(["--data-dir", str(tmp_path), "ticket", "issue", "tu-phap", "--any-time"])
    assert (tmp_path / "queue.sqlite3").exists()  # the ticket was really issued
    assert "pydantic" in loaded  # the config was validated: the check sees a real run
    assert not PRINTING & loaded


def test_issuing_again_loads_no_config_stack(tmp_path):
    """The second ticket finds the validated config in the data dir's cache (qms/config/cache.py)."""
    argv = ["--data-dir", str(tmp_path), "ticket", "issue", "tu-phap", "--any-time"]
    assert "pydantic" in loaded_by(argv)  # the first run validates and writes the cache
    loaded = loaded_by(argv)
    assert "qms" in loaded and "queue_core" in loaded
    assert not (PRINTING | CONFIG) & loaded


def test_a_report_with_a_cached_config_loads_no_config_stack(tmp_path):
    """`qms report` labels procedures and priorities from the cached core config (``CoreConfig.names``)."""
    loaded_by(["--data-dir", str(tmp_path), "ticket", "issue", "tu-phap", "--any-time"])  # a store, a cache
    loaded = loaded_by(["--data-dir", str(tmp_path), "report", "--csv", str(tmp_path / "report.csv")])
    assert "tu-phap" in (tmp_path / "report.csv").read_text(encoding="utf-8")  # the report really ran
    assert not (PRINTING | CONFIG) & loaded


def test_a_verb_without_the_store_loads_neither_the_hub_nor_sqlite3(tmp_path):
    """The store's exception classes are imported only when an exception reaches them (issue 15: kiosk
    memory): a device's process (kiosk, display) has no store."""
    loaded = loaded_by(["--data-dir", str(tmp_path), "config", "check"])
    assert "pydantic" in loaded  # the config was really checked
    assert not {"hub", "sqlite3"} & loaded
