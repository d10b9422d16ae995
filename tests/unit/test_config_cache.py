"""The config cache in the data dir (issue 15: start-up): a hit skips YAML and pydantic, and never hides
a change or an error of the config file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qms.config import ConfigError, load_config, to_site_def
from qms.config.cache import cache_file, cached_config, code_stamp, core_config
from testkit.sites import always_open_config

ROOT = Path(__file__).resolve().parents[2]


def qms(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QMS_ENV_FILE": "", "QMS_HEADLESS": "1"}
    return subprocess.run([sys.executable, "-m", "qms.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_miss_validates_and_a_hit_gives_the_same_site(tmp_path):
    config = always_open_config(tmp_path)
    cache = tmp_path / "data" / "cache"
    first = core_config(config, cache)
    assert cache_file(config, cache).exists()
    assert first.site == to_site_def(load_config(config))
    assert first.clock == (120, 900, 14)
    assert core_config(config, cache) == first
    assert cached_config(config, cache) == load_config(config)


def test_an_edit_of_the_file_misses_the_cache(tmp_path):
    config = always_open_config(tmp_path)
    cache = tmp_path / "cache"
    assert core_config(config, cache).clock[0] == 120
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "clock:\n  max_step_s: 300\n", encoding="utf-8")
    assert core_config(config, cache).clock[0] == 300
    assert cached_config(config, cache).clock.max_step_s == 300


def test_a_bad_edit_fails_with_its_line_even_after_a_hit(tmp_path):
    config = always_open_config(tmp_path)
    cache = tmp_path / "cache"
    core_config(config, cache)
    good = cache_file(config, cache).read_bytes()
    config.write_text(config.read_text(encoding="utf-8") + "clock:\n  max_step_s: 1\n", encoding="utf-8")
    for load in (core_config, cached_config):
        with pytest.raises(ConfigError) as err:
            load(config, cache)
        assert "clock.max_step_s" in str(err.value) and "line" in str(err.value)
    assert cache_file(config, cache).read_bytes() == good  # a bad config is never written


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_a_damaged_or_missing_cache_is_a_miss(tmp_path, damage):
    config = always_open_config(tmp_path)
    cache = tmp_path / "cache"
    expected = core_config(config, cache)
    file = cache_file(config, cache)
    if damage is None:
        file.unlink()
    else:
        file.write_bytes(damage)
    assert core_config(config, cache) == expected
    assert cached_config(config, cache) == load_config(config)


def test_a_read_only_data_dir_runs_without_the_cache(tmp_path):
    config = always_open_config(tmp_path)
    cache = tmp_path / "cache"
    cache.write_text("a file where the folder should be", encoding="utf-8")
    assert core_config(config, cache).site.site == load_config(config).site.id


def test_the_code_stamp_names_the_config_code_and_the_core_model():
    stamp = code_stamp()
    assert "schema.py" in stamp and "loader.py" in stamp and "model.py" in stamp and "engine.py" in stamp


def test_ticket_issue_on_a_warm_cache_fails_loudly_on_a_bad_config(tmp_path):
    config = always_open_config(tmp_path)
    data = str(tmp_path / "data")
    assert qms("--config", str(config), "--data-dir", data, "ticket", "issue", "tu-phap").returncode == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("prefix: A", "prefix: 7", 1), encoding="utf-8")
    done = qms("--config", str(config), "--data-dir", data, "ticket", "issue", "tu-phap")
    assert done.returncode == 3, done.stderr
    assert "has problems" in done.stderr and "prefix" in done.stderr and "line" in done.stderr
    config.write_text(text.replace("prefix: A", "prefix: Z", 1), encoding="utf-8")
    done = qms("--config", str(config), "--data-dir", data, "ticket", "issue", "tu-phap")
    assert done.returncode == 0, done.stderr
    assert '"number": "Z' in done.stdout  # the edited config is in force, not the cached one


def test_an_upgrade_of_the_config_code_misses_the_cache(tmp_path, monkeypatch):
    import qms.config.cache as cache_module

    config = always_open_config(tmp_path)
    cache = tmp_path / "cache"
    core_config(config, cache)
    before = cache_file(config, cache).read_bytes()
    monkeypatch.setattr(cache_module, "code_stamp", lambda: "schema.py 1 2\n(an upgraded release)")
    assert core_config(config, cache).clock == (120, 900, 14)
    assert cache_file(config, cache).read_bytes() != before  # validated again and written under the new key
