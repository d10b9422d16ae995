"""A board measures its clock against a REAL hub (``clock`` request) and keeps it in its retained status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mqtt_bus.client import package_version
from mqtt_bus.clock_probe import ClockProbe
from mqtt_bus.contract import Role
from qms.config import yaml_rt
from qms.context import AppContext
from qms.hub_service import start_hub
from testkit.sites import always_open_config
from tests.integration.hub_helpers import Inbox


def test_the_offset_and_version_are_in_the_status_next_to_the_display_audio(shared_broker, make_client, site,
                                                                            tmp_path):
    config = always_open_config(tmp_path)
    doc = yaml_rt().load(config.read_text(encoding="utf-8"))
    doc["site"]["id"] = site  # a site of its own on the shared broker
    with open(config, "w", encoding="utf-8") as f:
        yaml_rt().dump(doc, f)
    ctx = AppContext(config_path=config, data_dir=tmp_path / "data")
    hub = start_hub(ctx, shared_broker.url)
    try:
        assert hub.bus.wait_connected(5)
        display = make_client(shared_broker.url, "display-1", Role.DISPLAY)
        display.set_status_extra({"audio": {"state": "ok", "detail": "hw:0,0"}})
        behind = ClockProbe(display, clock=lambda: datetime.now(UTC) - timedelta(seconds=300))
        # the board probes again and again; under a loaded machine one answer may come after the timeout
        offset = next((o for o in (behind.check_once() for _ in range(3)) if o is not None), None)
        assert offset is not None and abs(offset + 300) < 2
        display.set_status_extra({"audio": {"state": "no_device", "detail": "unplugged"}})  # after the probe
        watcher = make_client(shared_broker.url, "watcher")
        inbox = Inbox()
        watcher.subscribe(watcher.topics.status("display-1"), inbox)
        _, p = inbox.wait_for(lambda t, p: p.get("online"))
        assert p["audio"]["state"] == "no_device"  # set_status_extra does not drop the clock fields …
        assert p["clock_offset_s"] == round(offset, 1) and p["clock_checked"].endswith("+07:00")
        assert p["version"] == package_version() == "0.1.0"
    finally:
        hub.stop()
        if hub.store is not None:
            hub.store.close()
