"""What the ingester accepts as an event (no broker, no database)."""

from __future__ import annotations

import pytest

from qms.province.db import parse_event

GOOD = {"seq": 12, "ts": "2026-12-01T09:00:00.123+07:00", "type": "ticket_called", "counter": "3",
        "ticket": {"id": "20261201-tu-phap-7", "number": "A007"}}


def test_a_good_event_keeps_its_ticket_counter_and_raw_text():
    e = parse_event("xa-a", GOOD, raw='{"raw": true}')
    assert (e.site, e.seq, e.type, e.ticket_id, e.counter, e.raw) == (
        "xa-a", 12, "ticket_called", "20261201-tu-phap-7", "3", '{"raw": true}')
    assert e.ts.utcoffset().total_seconds() == 7 * 3600
    assert parse_event("xa-a", {**GOOD, "ticket": None, "counter": None}).ticket_id is None


@pytest.mark.parametrize(("change", "words"), [
    ({"seq": "12"}, "'seq'"), ({"seq": True}, "'seq'"), ({"seq": 0}, "'seq'"), ({"seq": None}, "'seq'"),
    ({"type": ""}, "'type'"), ({"type": 5}, "'type'"),
    ({"ts": "hôm qua"}, "'ts'"), ({"ts": None}, "'ts'"), ({"ts": "2026-12-01T09:00:00"}, "offset"),
])
def test_a_malformed_event_names_its_problem(change, words):
    with pytest.raises(ValueError, match=words):
        parse_event("xa-a", {**GOOD, **change})


def test_a_payload_that_is_not_an_object_is_refused():
    for payload in ([1, 2], "text", 5, None):
        with pytest.raises(ValueError, match="not a JSON object"):
            parse_event("xa-a", payload)
