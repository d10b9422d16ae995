"""Which broker a device uses: a configured ``mqtt://`` URL, or the embedded private mosquitto.

With ``embedded``, the process that starts the broker writes its URL to ``<data_dir>/broker.url``
so that the other devices on the same machine (kiosk, display, counter pad) find it.
"""

from __future__ import annotations

from pathlib import Path

from mqtt_bus.broker import EmbeddedBroker

URL_FILE = "broker.url"


class BrokerNotFound(RuntimeError):
    """``embedded`` was asked for but no local process has started the broker."""


def start_embedded(data_dir: Path) -> EmbeddedBroker:
    """Start the private mosquitto with its persistence in the data dir, and publish its URL."""
    broker = EmbeddedBroker(data_dir / "mosquitto").start()
    (data_dir / URL_FILE).write_text(broker.url + "\n", encoding="utf-8")
    return broker


def resolve_url(broker_option: str, data_dir: Path) -> str:
    """A connectable URL: the option itself, or the running embedded broker's URL."""
    if broker_option != "embedded":
        return broker_option
    path = data_dir / URL_FILE
    if not path.exists():
        raise BrokerNotFound(f"no embedded broker is running for {data_dir} (start `qms hub` or `qms demo` first, "
                             "or pass --broker mqtt://HOST:1883)")
    return path.read_text(encoding="utf-8").strip()
