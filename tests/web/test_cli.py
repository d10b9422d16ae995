"""`qms web` and `qms web user ...` as a technician runs them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from qms.cli import main
from web.accounts import Accounts
from web.cli import check_host, lan_address

ROOT = Path(__file__).resolve().parents[2]


def test_user_add_list_remove(tmp_path, always_open_config, monkeypatch, capsys):
    base = ["--config", str(always_open_config), "--data-dir", str(tmp_path)]
    monkeypatch.setattr(sys, "stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert main([*base, "web", "user", "add", "lan", "--role", "manager", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("ngan\n"))
    assert main([*base, "web", "user", "add", "nam", "--role", "technician", "--password-stdin"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert main([*base, "web", "user", "list"]) == 0
    out = capsys.readouterr().out
    assert "lan\tmanager" in out and "nam" not in out
    accounts = Accounts(tmp_path / "web" / "accounts.json")
    assert accounts.check("lan", "mot-mat-khau-dai") is not None
    assert main([*base, "web", "user", "remove", "lan"]) == 0
    assert accounts.list() == []
    assert main([*base, "web", "user", "remove", "lan"]) == 2


def test_only_lan_addresses_are_accepted():
    assert check_host("127.0.0.1") == "127.0.0.1"
    assert check_host("192.168.1.10") == "192.168.1.10"
    for bad, words in (("8.8.8.8", "not a LAN address"), ("0.0.0.0", "public interface"), ("hub", "IP address")):
        with pytest.raises(ValueError, match=words):
            check_host(bad)
    assert lan_address() == "127.0.0.1" or check_host(lan_address())


def test_qms_web_serves_the_login_page(tmp_path, always_open_config):
    env = {**os.environ, "QMS_ENV_FILE": "", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "--config", str(always_open_config), "--data-dir",
                             str(tmp_path), "web", "--host", "127.0.0.1", "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("qms web: http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split(" ", 2)[2]
        with urllib.request.urlopen(url + "login", timeout=5) as r:
            page = r.read().decode()
        assert "Đăng nhập" in page
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "khong/co/trang", timeout=5)
        assert err.value.code == 404 and "Không tìm thấy trang" in err.value.read().decode()
    finally:
        proc.terminate()
        proc.wait(5)
    assert "no web account yet" in proc.stderr.read()


def test_a_public_host_is_refused(tmp_path, always_open_config, capsys):
    code = main(["--config", str(always_open_config), "--data-dir", str(tmp_path), "web", "--host", "8.8.8.8"])
    assert code == 2 and "not a LAN address" in capsys.readouterr().err
