"""The hub's read-only ``clock`` action: every role may ask it; it changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.mark.parametrize("client_id", ["kiosk-1", "display-1", "counter-3", "rating-3", "monitor-technician"])
def test_every_role_may_ask_the_hubs_clock(hub, broker, make_client, ctx, client_id):
    client = make_client(broker.url, client_id, site=ctx.site.site)
    assert client.wait_connected(5)
    before = datetime.now(UTC)
    reply = client.request("clock", {}, timeout=5)
    after = datetime.now(UTC)
    assert reply["ok"], reply
    now = datetime.fromisoformat(reply["result"]["now"])
    assert before <= now <= after and now.utcoffset() is not None
    assert now.isoformat().endswith("+07:00")  # the center's offset, like every time in the protocol
    assert hub.store.events_after(0, 10) == []  # read-only: no event, nothing stored
