"""The board's settings: flags over the environment over /etc/qms/qms.env; each process its own login."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mqtt_bus.url import parse_broker_url
from qms.context import AppContext, board_settings


def write_env(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_fills_what_the_environment_does_not_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = write_env(tmp_path / "qms.env", "# board\nQMS_ROLES='hub kiosk'\nQMS_DATA_DIR=/var/lib/qms\n"
                                                "QMS_BROKER=mqtt://10.0.0.5:1883\nQMS_SECRETS_DIR=/etc/qms/secrets\n")
    env = {"QMS_ENV_FILE": str(env_file), "QMS_BROKER": "mqtt://127.0.0.1:1999", "HOME": "/root"}
    settings = board_settings(env)
    assert settings["QMS_DATA_DIR"] == "/var/lib/qms"
    assert settings["QMS_BROKER"] == "mqtt://127.0.0.1:1999"  # the process environment wins
    assert settings["QMS_ROLES"] == "hub kiosk"
    assert "HOME" not in settings


def test_empty_env_file_variable_turns_the_file_off(tmp_path: Path) -> None:
    assert board_settings({"QMS_ENV_FILE": ""}) == {}


def test_resolve_reads_the_board_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = write_env(tmp_path / "qms.env", f"QMS_DATA_DIR={tmp_path / 'data'}\nQMS_SECRETS_DIR={tmp_path}/s\n")
    monkeypatch.setenv("QMS_ENV_FILE", str(env_file))
    for key in ("QMS_DATA_DIR", "QMS_SECRETS_DIR", "QMS_BROKER", "QMS_CONFIG", "QMS_PRINTER"):
        monkeypatch.delenv(key, raising=False)
    ctx = AppContext.resolve()
    assert ctx.data_dir == tmp_path / "data"
    assert ctx.secrets_dir == tmp_path / "s"
    assert AppContext.resolve(data_dir=str(tmp_path / "flag")).data_dir == tmp_path / "flag"


def test_login_url_uses_the_client_ids_own_secret(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kiosk-1").write_text("s3cr:t/é\n", encoding="utf-8")
    os.chmod(secrets / "kiosk-1", 0o600)
    ctx = AppContext(config_path=tmp_path / "x.yaml", data_dir=tmp_path, broker_option="mqtt://10.0.0.5:1883",
                     secrets_dir=secrets)
    address = parse_broker_url(ctx.login_url("kiosk-1"))
    assert (address.username, address.password, address.host) == ("kiosk-1", "s3cr:t/é", "10.0.0.5")
    assert "s3cr" not in str(address)
    # no secret for this client id: no login (the broker refuses, and doctor says so)
    assert parse_broker_url(ctx.login_url("display-1")).username is None


def test_login_url_keeps_an_explicit_login(tmp_path: Path) -> None:
    (tmp_path / "hub").write_text("other", encoding="utf-8")
    ctx = AppContext(config_path=tmp_path / "x.yaml", data_dir=tmp_path,
                     broker_option="mqtt://hub:given@127.0.0.1:1883", secrets_dir=tmp_path)
    assert parse_broker_url(ctx.login_url("hub")).password == "given"


def test_an_unreadable_env_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the board settings"):
        board_settings({"QMS_ENV_FILE": str(tmp_path)})  # a directory, not a file
