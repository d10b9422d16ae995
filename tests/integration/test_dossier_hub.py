"""``set_dossier`` through the hub on a real mosquitto: the pad's request, the ``dossier_set`` event,
the retained counter state, the store, and the role checks."""

from __future__ import annotations

from mqtt_bus.contract import ErrorCode, EventType, Role
from tests.integration.hub_helpers import SITE, Watcher, wait_for

CODE = "000.00.25.H37-251201-0042"


def test_a_pad_ties_a_dossier_code_and_every_subscriber_sees_it(hub, broker, make_client):
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    pad = make_client(broker.url, "counter-2", Role.COUNTER, site=SITE)
    other = make_client(broker.url, "counter-3", Role.COUNTER, site=SITE)
    rating = make_client(broker.url, "rating-2", Role.COUNTER, site=SITE)
    watcher_client = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE, start=False)
    watcher = Watcher(watcher_client)
    watcher_client.start()
    for c in (kiosk, pad, other, rating, watcher_client):
        assert c.wait_connected(5)
    ticket = kiosk.request("issue_ticket", {"service": "tu-phap"})["result"]["ticket"]
    assert pad.request("call_next", {"counter": "2"})["result"]["ticket"]["id"] == ticket["id"]

    answer = pad.request("set_dossier", {"counter": "2", "dossier": CODE})
    assert answer["ok"] is True, answer
    assert answer["result"]["ticket"]["dossier"] == CODE
    assert wait_for(lambda: any(e["type"] == EventType.DOSSIER_SET for e in watcher.events))
    (event,) = [e for e in watcher.events if e["type"] == EventType.DOSSIER_SET]
    assert event["dossier"] == CODE and event["counter"] == "2" and event["ticket"]["id"] == ticket["id"]
    assert wait_for(lambda: ((watcher.state()["counters"].get("2") or {}).get("ticket") or {}).get("dossier") == CODE)
    assert hub.store.ticket(ticket["id"]).dossier == CODE

    # refusals: another pad, a rating tablet, a kiosk; a bad code; nothing changes
    for client, args, code in (
        (other, {"counter": "2", "dossier": "X-1"}, ErrorCode.FORBIDDEN),
        (rating, {"counter": "2", "dossier": "X-1"}, ErrorCode.FORBIDDEN),
        (kiosk, {"counter": "2", "dossier": "X-1"}, ErrorCode.FORBIDDEN),
        (pad, {"counter": "2", "dossier": "HS 01; DROP"}, ErrorCode.INVALID_DOSSIER),
        (pad, {"counter": "2", "dossier": "A" * 41}, ErrorCode.INVALID_DOSSIER),
        (pad, {"counter": "2", "dossier": 12345}, ErrorCode.BAD_REQUEST),
        (other, {"counter": "3", "dossier": "X-1", "ticket": ticket["id"]}, ErrorCode.UNKNOWN_TICKET),
    ):
        refused = client.request("set_dossier", args)
        assert refused["ok"] is False and refused["error"]["code"] == code, (args, refused)
    assert hub.store.ticket(ticket["id"]).dossier == CODE

    # after Xong (and the rating) the code is still on the ticket, and may be given to it by id
    assert pad.request("complete", {"counter": "2"})["ok"]
    assert rating.request("rate", {"ticket": ticket["id"], "score": 5})["result"]["ticket"]["dossier"] == CODE
    fixed = pad.request("set_dossier", {"counter": "2", "dossier": "H37.9", "ticket": ticket["id"]})
    assert fixed["ok"] is True and fixed["result"]["ticket"]["dossier"] == "H37.9", fixed
    stored = hub.store.ticket(ticket["id"])
    assert (stored.dossier, stored.rating, stored.status.value) == ("H37.9", 5, "done")
