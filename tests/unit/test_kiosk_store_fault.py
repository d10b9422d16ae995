"""The kiosk while the hub announces a store fault: no ticket flow starts; a fault answer reads as "hub down"."""

from __future__ import annotations

from mqtt_bus.contract import ErrorCode, FaultCode
from tests.kiosk_fakes import error_response
from tests.unit.test_kiosk_viewmodel import rig  # noqa: F401  (the fixture)

FAULT = {"code": FaultCode.STORE_CORRUPT, "message": "the store ... is damaged: restore ...", "fix": "restore ..."}


def test_no_flow_starts_while_the_hub_has_a_fault(rig):  # noqa: F811
    rig.vm.set_hub_fault(FAULT)
    rig.tap("take_number")
    rig.tap("take_number", "elderly")
    assert rig.vm.screen == "welcome" and rig.hub.requests == []
    rig.vm.set_hub_fault(None)
    rig.tap("take_number")
    assert rig.vm.screen == "field"


def test_a_store_fault_answer_shows_the_hub_down_screen(rig):  # noqa: F811
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.hub.reply(error_response(ErrorCode.STORE_FAULT, "the store ... is damaged"))
    assert rig.vm.screen == "hub_down" and rig.vm.error_code == ErrorCode.STORE_FAULT
