"""``set_dossier``: the officer ties the one-door system's dossier code (mã hồ sơ) to a ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.authz import refusal
from queue_core import Engine, ErrorCode, EventType, QueueError, QueueState, run_action
from tests.factories import local, make_site

NOW = local(2026, 11, 23, 9)


def served_at_2() -> tuple[Engine, QueueState, dict]:
    site = make_site()
    engine, state = Engine(site), QueueState.initial(site)
    engine.issue_ticket(state, NOW, "tu-phap")
    called = engine.call_next(state, NOW, "2").result["ticket"]
    return engine, state, called


def test_the_current_ticket_gets_the_code_and_the_event_carries_it() -> None:
    engine, state, called = served_at_2()
    out = run_action(engine, state, NOW, "set_dossier", {"counter": "2", "dossier": " 000.00.25.H37-261123-0001 "})
    assert out.result["ticket"]["id"] == called["id"]
    assert out.result["ticket"]["dossier"] == "000.00.25.H37-261123-0001"  # spaces a scanner adds are dropped
    [event] = out.events
    assert event.type == EventType.DOSSIER_SET and event.counter == "2"
    assert event.extra == {"dossier": "000.00.25.H37-261123-0001"}
    assert event.ticket is not None and event.ticket["dossier"] == "000.00.25.H37-261123-0001"
    # the code stays through complete and is on the rating event
    engine.complete(state, NOW, "2")
    rated = engine.rate(state, NOW + timedelta(seconds=5), called["id"], 5).events[0]
    assert rated.ticket is not None and rated.ticket["dossier"] == "000.00.25.H37-261123-0001"


def test_a_served_ticket_named_by_id_may_get_it_and_a_new_code_replaces_the_old() -> None:
    engine, state, called = served_at_2()
    engine.complete(state, NOW, "2")
    with pytest.raises(QueueError) as none_current:
        engine.set_dossier(state, NOW, "2", "H37.1")
    assert none_current.value.code == ErrorCode.NO_CURRENT_TICKET
    first = engine.set_dossier(state, NOW, "2", "H37.1", ticket=called["id"])
    assert first.result["ticket"]["dossier"] == "H37.1" and first.result["ticket"]["status"] == "done"
    again = engine.set_dossier(state, NOW, "2", "H37.1", ticket=called["id"])
    assert again.events == []  # the same code twice (a scanner bounce) changes nothing
    second = engine.set_dossier(state, NOW, "2", "H37/2", ticket=called["id"])
    assert [e.extra["dossier"] for e in second.events] == ["H37/2"]


@pytest.mark.parametrize("code", ["", "   ", "A" * 41, "HS 01", "hồ-sơ-1", "A;DROP", "A\tB"])
def test_bad_codes_are_invalid_dossier_and_change_nothing(code: str) -> None:
    engine, state, called = served_at_2()
    with pytest.raises(QueueError) as err:
        if code == "":  # empty text is already refused by the argument check
            run_action(engine, state, NOW, "set_dossier", {"counter": "2", "dossier": code})
        else:
            engine.set_dossier(state, NOW, "2", code)
    assert err.value.code in ((ErrorCode.BAD_REQUEST,) if code == "" else (ErrorCode.INVALID_DOSSIER,))
    assert state.tickets[called["id"]].dossier is None


def test_forty_characters_is_the_limit() -> None:
    engine, state, _ = served_at_2()
    assert engine.set_dossier(state, NOW, "2", "A" * 40).result["ticket"]["dossier"] == "A" * 40


def test_another_counter_s_ticket_or_a_waiting_one_is_refused() -> None:
    engine, state, called = served_at_2()
    waiting = engine.issue_ticket(state, NOW, "tu-phap").result["ticket"]
    for counter, ticket in (("1", called["id"]), ("2", waiting["id"]), ("2", "nope")):
        with pytest.raises(QueueError) as err:
            engine.set_dossier(state, NOW, counter, "H37.1", ticket=ticket)
        assert err.value.code == ErrorCode.UNKNOWN_TICKET
    assert all(t.dossier is None for t in state.tickets.values())


def test_only_the_counter_s_own_pad_may_set_it() -> None:
    args = {"counter": "2", "dossier": "H37.1"}
    assert refusal("counter-2", "set_dossier", args) is None
    assert refusal("monitor-lap", "set_dossier", args) is None
    assert "not 2" in (refusal("counter-3", "set_dossier", args) or "")
    for client in ("kiosk-1", "display-1", "rating-2"):
        assert refusal(client, "set_dossier", args) is not None
