"""Live config pieces without a broker: retired services, the catalogue and its merge, topic and ACL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hub.reload import with_retired
from hub.store import Store
from mqtt_bus.acl import render_acl
from mqtt_bus.topics import Topics
from qms.catalogue import catalogue_of, config_version, merge_catalogue
from qms.config import load_config
from tests.factories import local, make_site

COMMUNE = Path(__file__).resolve().parents[2] / "config" / "commune.yaml"


def without(site, service: str):
    """``site`` as a config without ``service`` (and no counter naming it)."""
    services = {k: v for k, v in site.services.items() if k != service}
    counters = {k: replace(c, services=tuple(s for s in c.services if s != service))
                for k, c in site.counters.items() if any(s != service for s in c.services)}
    return replace(site, services=services, counters=counters)


def test_a_removed_service_with_open_tickets_is_retired_to_the_counters_that_served_it():
    old = make_site()
    new = without(old, "chung-thuc")  # counter 3 served only chung-thuc: gone too
    site, retired = with_retired(new, old, {"chung-thuc": "B001", "tu-phap": "A003"})
    assert retired == {"chung-thuc"}
    assert site.services["chung-thuc"] == old.services["chung-thuc"]
    assert site.counters["2"].services == ("tu-phap", "chung-thuc")  # its own first, then the retired one
    assert site.counters["1"].services == ("huong-dan", "tu-phap")
    assert set(site.counters) == {"1", "2"}


def test_no_server_left_means_every_counter_and_an_unknown_service_gets_its_letter():
    old = make_site()
    new = replace(without(old, "chung-thuc"), counters={"1": old.counters["1"]})
    site, retired = with_retired(new, new, {"le-phi": "L007"})  # a hub started on a config without it
    assert retired == {"le-phi"}
    assert site.services["le-phi"].prefix == "L" and site.counters["1"].services[-1] == "le-phi"
    assert with_retired(new, old, {"tu-phap": "A001"}) == (new, frozenset())


def test_store_serves_a_new_site_and_lists_its_open_services(tmp_path):
    site = make_site()
    with Store(tmp_path / "q.sqlite3", site) as store:
        now = local(2026, 12, 1, 9)
        assert store.run("issue_ticket", {"service": "chung-thuc"}, now=now).ok
        assert store.run("issue_ticket", {"service": "chung-thuc"}, now=now).ok
        assert store.open_services() == {"chung-thuc": "B001"}
        retired_site, _ = with_retired(without(site, "chung-thuc"), site, store.open_services())
        store.set_site(retired_site)
        called = store.run("call_next", {"counter": "2"}, now=now)
        assert called.response["result"]["ticket"]["number"] == "B001"
        store.set_site(without(site, "chung-thuc"))  # not retired: its tickets are not loaded, not called
        assert store.run("call_next", {"counter": "2"}, now=now).response["result"]["ticket"] is None


def test_catalogue_round_trip_has_no_secrets_and_refuses_other_sites():
    cfg = load_config(COMMUNE)
    payload = catalogue_of(cfg, config_version(COMMUNE.read_bytes()), 7)
    assert payload["version"] == 7 and len(payload["sha256"]) == 64
    text = str(payload)
    for secret in ("broker", "admin_pin_hash", "security", "virtual://"):
        assert secret not in text
    assert merge_catalogue(cfg, payload) == cfg
    changed = dict(payload, catalogue=dict(payload["catalogue"], display={"notice": {"vi": "Nghỉ Tết từ 26/1"}}))
    assert merge_catalogue(cfg, changed).display.notice.root["vi"] == "Nghỉ Tết từ 26/1"
    services = [dict(s, name={"vi": "Tư pháp – Hộ tịch (mới)"}) if s["id"] == "tu-phap" else s
                for s in payload["catalogue"]["services"]]
    renamed = merge_catalogue(cfg, dict(payload, catalogue=dict(payload["catalogue"], services=services)))
    assert renamed.service("tu-phap").name.root["vi"] == "Tư pháp – Hộ tịch (mới)"
    other = dict(payload, catalogue=dict(payload["catalogue"], site=dict(payload["catalogue"]["site"], id="xa-khac")))
    assert merge_catalogue(cfg, other) is None
    broken = dict(payload, catalogue=dict(payload["catalogue"], counters=[{"id": "1", "services": ["khong-co"]}]))
    assert merge_catalogue(cfg, broken) is None
    assert merge_catalogue(cfg, {"sha256": "x"}) is None


def test_config_topic_and_acl():
    t = Topics("xa-demo")
    assert t.config == "qms/v1/xa-demo/config"
    acl = render_acl("xa-demo", [("hub", "hub"), ("kiosk-1", "kiosk"), ("counter-3", "counter"),
                                 ("display-1", "display"), ("monitor-web", "monitor")])
    assert acl.count("topic read qms/v1/xa-demo/config\n") == 3
    assert "write qms/v1/xa-demo/config" not in acl.replace("readwrite qms/v1/xa-demo/#", "")


def test_holidays_travel_in_the_catalogue_to_the_devices():
    from qms.catalogue import catalogue_of, merge_catalogue
    from qms.config import default_config_path, load_config

    cfg = load_config(default_config_path())
    new = cfg.model_copy(deep=True)
    new.hours = type(cfg.hours).model_validate(
        cfg.hours.model_dump(mode="json") | {"holidays": ["2027-02-05..2027-02-10 Tết Nguyên đán"],
                                             "extra_days": ["2027-02-20"]})
    merged = merge_catalogue(cfg, catalogue_of(new, "0" * 64))
    assert [h[2] for h in merged.hours.holidays] == ["Tết Nguyên đán"]
    assert [d.isoformat() for d in merged.hours.extra_days] == ["2027-02-20"]
