"""The broker exactly as installed (Debian's default mosquitto.conf + our conf.d/qms.conf), moved into
a temp dir and onto a free loopback port, run by :class:`EmbeddedBroker`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mqtt_bus.broker import EmbeddedBroker, free_port

ROOT = Path(__file__).resolve().parents[2]
DROP_IN = ROOT / "config" / "mosquitto" / "qms.conf"

# /etc/mosquitto/mosquitto.conf as Debian 12's mosquitto package ships it.
DEBIAN_DEFAULT = """\
# Place your local configuration in /etc/mosquitto/conf.d/
#
# A full description of the configuration file is at
# /usr/share/doc/mosquitto/examples/mosquitto.conf.example

pid_file /run/mosquitto/mosquitto.pid

persistence true
persistence_location /var/lib/mosquitto/

log_dest file /var/log/mosquitto/mosquitto.log

include_dir /etc/mosquitto/conf.d
"""


def render(text: str, root: Path, port: int) -> str:
    """A config file's text with the installed paths under *root* and the listener on *port*."""
    for old, new in (("/etc/mosquitto/", f"{root}/etc/"), ("/var/lib/mosquitto/", f"{root}/"),
                     ("/var/log/mosquitto/", f"{root}/"), ("/run/mosquitto/", f"{root}/")):
        text = text.replace(old, new)
    return re.sub(r"^listener 1883.*$", f"listener {port} 127.0.0.1", text, flags=re.M)


def site_broker(root: Path, password_file: Path, acl_file: Path) -> EmbeddedBroker:
    """An unstarted broker on the installed configuration, with these passwd and acl files."""
    port = free_port()
    conf_d = root / "etc" / "conf.d"
    (root / "etc" / "qms").mkdir(parents=True, exist_ok=True)
    conf_d.mkdir(parents=True, exist_ok=True)
    for source, name in ((password_file, "passwd"), (acl_file, "acl")):
        target = root / "etc" / "qms" / name
        target.write_bytes(source.read_bytes())
        target.chmod(0o600)
    drop_in = render(DROP_IN.read_text(), root, port)
    if os.geteuid() == 0:
        drop_in += "user root\n"  # else mosquitto drops to 'mosquitto' and cannot write the temp dir
    (conf_d / "qms.conf").write_text(drop_in)
    main = render(DEBIAN_DEFAULT, root, port)
    broker = EmbeddedBroker(root, port=port)
    broker.config_text = lambda: main  # type: ignore[method-assign]
    return broker
