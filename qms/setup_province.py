"""``qms setup province``: bridge the hub board's mosquitto to the provincial broker (issue 17).

The technician types the provincial broker's address, this site's password there (the file
``secrets/site-SITE`` that ``qms province broker-config`` made at the province) and the province's CA
certificate (TLS). The login is tested by connecting before anything is written; at the end the drop-in
``/etc/mosquitto/conf.d/qms-province.conf`` (``$QMS_MOSQUITTO_CONF_D`` overrides the folder) is written
by the same code as ``qms province bridge-config`` and mosquitto restarts. "không" removes the bridge.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from qms.setup_prompt import Answers, Prompter

CONF_D_ENV = "QMS_MOSQUITTO_CONF_D"
DROP_IN = "qms-province.conf"
OFF_WORDS = ("khong", "không", "no", "none", "-")


def drop_in_path() -> Path:
    """Where the bridge drop-in goes."""
    return Path(os.environ.get(CONF_D_ENV) or "/etc/mosquitto/conf.d") / DROP_IN


def _site_of(env: dict[str, str]) -> str:
    from qms.config.loader import load_config

    path = env.get("QMS_CONFIG") or "/etc/qms/site.yaml"
    return load_config(Path(path)).site.id


class Declined(Exception):
    """The login was refused and the technician did not try again: nothing is saved."""


def step_province(p: Prompter, env: dict[str, str], answers: Answers,
                  connect: Callable[[str, str, str | None], str | None], site: str | None = None) -> None:
    """Ask for the provincial broker and this site's login there, test it with ``connect(url, login, cafile)``
    (None: accepted, else why not) and queue the drop-in; :class:`Declined` when the technician gives up."""
    from mqtt_bus.url import parse_broker_url
    from qms.province.configs import BridgeSettings, render_bridge_conf, site_login

    p.say("\n== Nối với máy chủ của tỉnh (tùy chọn) / Bridge to the provincial broker (optional) ==")
    site = site or _site_of(env)
    login = site_login(site)
    current = env.get("QMS_PROVINCE", "")
    while True:
        host = p.ask(f"Địa chỉ máy chủ tỉnh / Provincial broker (HOST or HOST:PORT, default port 8883; "
                     f"'{OFF_WORDS[0]}' = không nối / no bridge)", current or OFF_WORDS[0])
        if host.strip().lower() in OFF_WORDS:
            answers.env["QMS_PROVINCE"] = ""
            answers.files[drop_in_path()] = None
            answers.notes.append(f"  không nối với tỉnh / no provincial bridge ({drop_in_path()} removed)")
            return
        try:
            address = parse_broker_url(f"mqtts://{host if ':' in host else host + ':8883'}")
        except ValueError as exc:
            p.say(f"  ✗ {exc}")
            continue
        password = p.secret(f"Mật khẩu của {login} ở tỉnh / Password of {login} at the province (the file "
                            f"secrets/{login} made by `qms province broker-config`)")
        cafile = p.ask("Chứng chỉ CA của tỉnh / The province's CA certificate (a .pem file; Enter = no TLS, "
                       "only on a private network)", env.get("QMS_PROVINCE_CA", "")).strip() or None
        if cafile and not Path(cafile).is_file():
            p.say(f"  ✗ không có tệp / no such file: {cafile}")
            continue
        p.say(f"  đang kết nối / connecting to {address.host}:{address.port} as {login} ...")
        problem = connect(f"{'mqtts' if cafile else 'mqtt'}://{login}:{password}@{address.host}:{address.port}",
                          login, cafile)
        if problem is None:
            p.say("  ✓ tỉnh nhận đăng nhập / the province accepts the login")
            break
        p.say(f"  ✗ không kết nối được / could not connect: {problem}")
        if not p.yes("Thử lại? / Try again?"):
            raise Declined("setup: không lưu gì / nothing saved: the provincial broker did not accept the login; "
                           "run `qms setup province` again when the link is up")
    answers.files[drop_in_path()] = render_bridge_conf(BridgeSettings(
        site=site, host=address.host, port=address.port, password=password, cafile=cafile))
    answers.env["QMS_PROVINCE"] = f"{address.host}:{address.port}"
    if cafile:
        answers.env["QMS_PROVINCE_CA"] = cafile
    answers.notes.append(f"  cầu nối tới tỉnh / bridge to the province: {drop_in_path()} "
                         f"({address.host}:{address.port}{', TLS' if cafile else ', no TLS'}); "
                         "events wait in this board's mosquitto while the link is down")


def write_drop_in(path: Path, text: str | None) -> None:
    """Write (0640, group mosquitto when it exists) or remove (``None``) the bridge drop-in."""
    if text is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    if os.geteuid() == 0:
        with contextlib.suppress(LookupError, OSError):  # no mosquitto group: root's only
            shutil.chown(tmp, "root", "mosquitto")
    os.replace(tmp, path)


def restart_mosquitto() -> str:
    """Restart the board's mosquitto when systemd runs; one line saying what happened."""
    if not (shutil.which("systemctl") and Path("/run/systemd/system").exists()):
        return "  khởi động lại mosquitto khi có thể / restart mosquitto to use it: sudo systemctl restart mosquitto"
    done = subprocess.run(["systemctl", "restart", "mosquitto"], check=False, capture_output=True, text=True)
    if done.returncode:
        return ("  ✗ mosquitto không khởi động lại được / did not restart: see `journalctl -u mosquitto -n 20` "
                f"({done.stderr.strip()[:200]})")
    return "  đã khởi động lại mosquitto / mosquitto restarted"
