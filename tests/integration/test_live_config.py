"""Live config (issue 19): the running hub reloads its config file between requests, keeps a removed
service's waiting citizens callable and reported, and publishes the new catalogue retained on ``config``.

Real mosquitto, real SQLite store, the hub as ``start_hub`` runs it, ``qms report`` as a process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from mqtt_bus.contract import Role
from qms.config import yaml_rt
from tests.integration.hub_helpers import SITE, wait_for
from web.versions import History

ROOT = Path(__file__).resolve().parents[2]


def rewrite(path: Path, change) -> None:
    """Edit the config as the web app does: round-trip YAML, a temp file renamed over the old one."""
    yaml = yaml_rt()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    change(doc)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        yaml.dump(doc, f)
    os.replace(tmp, path)


def remove_chung_thuc(doc: Any) -> None:
    doc["services"] = [s for s in doc["services"] if s["id"] != "chung-thuc"]
    for counter in doc["counters"]:
        counter["services"] = [s for s in counter["services"] if s != "chung-thuc"]


def catalogue_watcher(make_client, url: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    lock = threading.Lock()
    kiosk = make_client(url, "kiosk-9", Role.KIOSK, site=SITE)

    def keep(_topic: str, payload: dict[str, Any]) -> None:
        with lock:
            seen.append(payload)

    kiosk.subscribe(kiosk.topics.config, keep)
    return seen


def test_removed_service_keeps_its_waiting_tickets_callable_and_reported(ctx, broker, hub, make_client):
    catalogues = catalogue_watcher(make_client, broker.url)
    assert wait_for(lambda: bool(catalogues), 5), "the hub publishes its catalogue retained on start"
    first = catalogues[-1]
    assert "chung-thuc" in [s["id"] for s in first["catalogue"]["services"]]
    assert "broker" not in first["catalogue"] and "kiosk" not in first["catalogue"], "no secrets in it"

    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    pad = make_client(broker.url, "counter-3", Role.COUNTER, site=SITE)
    b = [kiosk.request("issue_ticket", {"service": "chung-thuc"})["result"]["ticket"]["number"] for _ in range(2)]
    assert b == ["B001", "B002"]
    assert kiosk.request("issue_ticket", {"service": "tu-phap"})["result"]["ticket"]["number"] == "A001"

    rewrite(ctx.config_path, remove_chung_thuc)
    assert wait_for(lambda: catalogues[-1]["sha256"] != first["sha256"], 3), "the new catalogue is published"
    assert "chung-thuc" not in [s["id"] for s in catalogues[-1]["catalogue"]["services"]]
    assert hub.reloads == 1 and hub.retired == {"chung-thuc"}

    refused = kiosk.request("issue_ticket", {"service": "chung-thuc"})
    assert refused["ok"] is False and refused["error"]["code"] == "unknown_service"
    assert "removed from the config" in refused["error"]["message"]
    # numbers issued today stay valid: tu-phap goes on from A001
    assert kiosk.request("issue_ticket", {"service": "tu-phap"})["result"]["ticket"]["number"] == "A002"

    # counter 3 served chung-thuc in the old config: it keeps calling it, after its own (preferred) service
    called = [pad.request("call_next", {"counter": "3"})["result"]["ticket"] for _ in range(5)]
    assert [t and t["number"] for t in called] == ["A001", "A002", "B001", "B002", None]
    assert [t["service"] for t in called[2:4]] == ["chung-thuc", "chung-thuc"]

    # in the report of the day, under the old service id (the new config no longer names it)
    report = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(ctx.config_path), "--data-dir",
                             str(ctx.data_dir), "report"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    # issued 2, served 2, no-show 0 (the 5th call finished A002: 4 served in all)
    assert re.search(r"^chung-thuc +2 +2 +0 ", report.stdout, re.M), report.stdout
    assert re.search(r"^Tất cả +4 +4 +0 ", report.stdout, re.M), report.stdout


def test_invalid_config_is_ignored_and_the_hub_keeps_serving(ctx, broker, hub, make_client):
    catalogues = catalogue_watcher(make_client, broker.url)
    assert wait_for(lambda: bool(catalogues), 5)
    text = ctx.config_path.read_text(encoding="utf-8")
    ctx.config_path.write_text(text.replace("prefix: B", "prefix: A", 1), encoding="utf-8")  # two services on A
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    assert wait_for(lambda: hub.config_source is not None and hub.config_source.sha256 != catalogues[0]["sha256"], 3)
    assert kiosk.request("issue_ticket", {"service": "chung-thuc"})["result"]["ticket"]["number"] == "B001"
    assert hub.reloads == 0 and len(catalogues) == 1, "an invalid file changes nothing"


def test_a_hub_restarted_on_the_new_config_still_calls_the_removed_services_tickets(ctx, broker, make_client):
    from qms.context import AppContext
    from qms.hub_service import start_hub

    first = start_hub(ctx, broker.url, poll_interval=0.05)
    try:
        assert first.bus.wait_connected(5)
        kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
        assert kiosk.request("issue_ticket", {"service": "chung-thuc"})["result"]["ticket"]["number"] == "B001"
    finally:
        first.stop()
        first.store.close()
    # the web app keeps the file as it found it, then each version it saves (web/versions.py)
    History(ctx.data_dir / "web" / "versions", ctx.config_path).record_current(datetime.now())
    rewrite(ctx.config_path, remove_chung_thuc)
    display = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE)
    states: dict[str, dict[str, Any]] = {}
    display.subscribe(display.topics.state_service("chung-thuc"), lambda _t, p: states.__setitem__("chung-thuc", p))
    second = start_hub(AppContext(config_path=ctx.config_path, data_dir=ctx.data_dir), broker.url, poll_interval=0.05)
    try:
        assert second.bus.wait_connected(5)
        assert second.retired == {"chung-thuc"}
        # neither config the restarted hub knows defines it: named from the version history, not by its id
        assert second.store.site.services["chung-thuc"].name == "Chứng thực"
        assert wait_for(lambda: states.get("chung-thuc", {}).get("name") == "Chứng thực", 5), states
        pad = make_client(broker.url, "counter-2", Role.COUNTER, site=SITE)
        called = pad.request("call_next", {"counter": "2"})["result"]["ticket"]
        assert (called["number"], called["service"]) == ("B001", "chung-thuc")
    finally:
        second.stop()
        second.store.close()
    report = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(ctx.config_path), "--data-dir",
                             str(ctx.data_dir), "report"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert re.search(r"^Chứng thực +1 +0 +0 ", report.stdout, re.M), report.stdout


def test_a_retired_service_is_dropped_once_its_last_ticket_is_served(ctx, broker, hub, make_client, monkeypatch):
    import hub.server as server

    monkeypatch.setattr(server, "RETIRED_CHECK_S", 0.05)
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    pad = make_client(broker.url, "counter-3", Role.COUNTER, site=SITE)
    assert kiosk.request("issue_ticket", {"service": "chung-thuc"})["ok"]
    rewrite(ctx.config_path, remove_chung_thuc)
    assert wait_for(lambda: hub.retired == {"chung-thuc"}, 3)
    assert pad.request("call_next", {"counter": "3"})["result"]["ticket"]["number"] == "B001"
    time.sleep(0.3)  # several checks later: still retired, B001 is called, not finished
    assert hub.retired == {"chung-thuc"}
    assert pad.request("complete", {"counter": "3"})["ok"]
    assert wait_for(lambda: not hub.retired and "chung-thuc" not in hub.store.site.services, 3)
    assert hub.store.site.counters["3"].services == ("tu-phap",)
