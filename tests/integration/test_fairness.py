"""The per-kiosk issue limit on a real hub and mosquitto (the default commune center: 10 tickets a minute)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hub.fairness import IssueLimit
from mqtt_bus.client import new_request_id
from mqtt_bus.contract import ErrorCode, Role
from qms.context import AppContext
from qms.hub_service import start_hub
from tests.integration.hub_helpers import SITE

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_kiosk_gets_ten_tickets_a_minute_and_a_friendly_refusal_for_the_eleventh(hub, broker, make_client, ctx):
    clock = FakeClock()
    hub.issue_limit = IssueLimit(ctx.config.security.issue_per_minute, clock=clock)
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    assert kiosk.wait_connected(5)
    issue = {"service": "tu-phap"}
    pressed_twice = [kiosk.request("issue_ticket", issue) for _ in range(2)]  # a citizen pressing twice: fine
    assert [r["result"]["ticket"]["number"] for r in pressed_twice] == ["A001", "A002"]
    rids = [new_request_id() for _ in range(9)]
    for rid in rids[:8]:
        clock.now += 2.0
        assert kiosk.request("issue_ticket", issue, request_id=rid)["ok"]
    clock.now += 2.0
    eleventh = kiosk.request("issue_ticket", issue, request_id=rids[8])
    assert eleventh["ok"] is False and eleventh["error"]["code"] == ErrorCode.RATE_LIMITED, eleventh
    assert "please wait 42 s" in eleventh["error"]["message"] and eleventh["error"]["details"] == {"retry_after_s": 42}
    assert len(hub.store.tickets()) == 10
    # a retry of a ticket already given still gets its first answer, limit or not
    again = kiosk.request("issue_ticket", issue, request_id=rids[7])
    assert again["ok"] and again["result"]["ticket"]["number"] == "A010"
    # another kiosk has its own limit; the technician's CLI on the store has none
    other = make_client(broker.url, "kiosk-2", Role.KIOSK, site=SITE)
    assert other.request("issue_ticket", issue)["result"]["ticket"]["number"] == "A011"
    cli = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(ctx.config_path), "--data-dir",
                          str(ctx.data_dir), "ticket", "issue", "tu-phap"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert cli.returncode == 0 and json.loads(cli.stdout)["number"] == "A012", cli.stderr
    # the refusal was not stored: once the minute has passed, the same request succeeds
    clock.now += 45.0
    later = kiosk.request("issue_ticket", issue, request_id=rids[8])
    assert later["ok"] and later["result"]["ticket"]["number"] == "A013"


def test_kiosk_without_an_issue_limit_when_configured_off(tmp_path, broker, make_client, always_open_config):
    config = tmp_path / "unlimited.yaml"
    text = always_open_config.read_text(encoding="utf-8")
    assert "issue_per_minute: 10 " in text
    config.write_text(text.replace("issue_per_minute: 10 ", "issue_per_minute: 0 ", 1), encoding="utf-8")
    hub = start_hub(AppContext(config_path=config, data_dir=tmp_path / "data"), broker.url, poll_interval=0.05)
    try:
        kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
        answers = [kiosk.request("issue_ticket", {"service": "tu-phap"}) for _ in range(15)]
        assert all(a["ok"] for a in answers), [a for a in answers if not a["ok"]][:1]
    finally:
        hub.stop()
        hub.store.close()
