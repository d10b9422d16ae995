"""LED boards: the generic frame, text fitting, URL parsing, updates from counter state, failures."""

from __future__ import annotations

import pytest

from devices.led import FakeTransport, GenericAscii7Seg, LedBoards, open_led, parse_led_map
from devices.led.boards import board_text
from devices.led.transport import LedUnavailable, SerialTransport
from tests.integration.hub_helpers import wait_for


def state(counter, number=None, status="open", seq=1):
    ticket = {"number": number, "id": f"t-{number}"} if number else None
    return {"counter": counter, "name": f"Quầy số {counter}", "status": status, "ticket": ticket, "seq": seq}


def test_generic_frame_bytes_and_checksum():
    frame = GenericAscii7Seg().frame(7, "A012")
    body = b"07A012\x03"
    assert frame == b"\x02" + body + f"{sum(body) % 256:02X}".encode()
    assert frame == b"\x0207A012\x033E"


@pytest.mark.parametrize(("text", "shown"), [("A012", "A012"), ("7", "   7"), ("", "    "), ("----", "----"),
                                              ("a12345", "2345"), ("Ư01", "  01"), ("b7", "  B7")])
def test_text_is_fitted_to_four_showable_characters(text, shown):
    assert GenericAscii7Seg().fit(text) == shown


def test_bad_address_is_refused():
    with pytest.raises(ValueError, match=r"0\.\.99"):
        GenericAscii7Seg().frame(100, "1")


def test_board_text_from_counter_state():
    assert board_text(state("1", "A012")) == "A012"
    assert board_text(state("1")) == ""
    assert board_text(state("1", "A012", "paused")) == "----"
    assert board_text(state("1", None, "closed")) == "----"


def test_led_map_and_urls():
    assert parse_led_map("1=11, 2=12,") == {"1": 11, "2": 12}
    assert parse_led_map(None) == {}
    with pytest.raises(ValueError, match="bad part"):
        parse_led_map("1:11")
    transport, protocol = open_led("serial:///dev/ttyUSB1?baudrate=9600&protocol=generic")
    assert isinstance(transport, SerialTransport) and transport.port == "/dev/ttyUSB1" and transport.baudrate == 9600
    assert protocol.name == "generic"
    assert isinstance(open_led("fake://")[0], FakeTransport)
    for bad, message in [("serial:///dev/x?baudrate=123", "baudrate"), ("serial:///dev/x?protocol=nope", "protocol"),
                         ("tcp://1.2.3.4", "serial:///"), ("serial:///dev/x?parity=E", "parity")]:
        with pytest.raises(ValueError, match=message):
            open_led(bad)


def test_missing_serial_port_is_reported():
    from devices.led import LedUnavailable

    with pytest.raises(LedUnavailable, match="/dev/does-not-exist"):
        SerialTransport("/dev/does-not-exist").open()


def test_boards_follow_counter_state_and_skip_unchanged_texts():
    fake = FakeTransport()
    boards = LedBoards(fake, GenericAscii7Seg(), {"2": 12}, threaded=False)
    p = GenericAscii7Seg()
    boards.apply_state(state("1", "A001", seq=1))
    boards.apply_state(state("2", "B001", seq=2))
    boards.apply_state(state("1", "A001", seq=3))  # same text: nothing sent
    boards.apply_state(state("1", "A001", "paused", seq=4))
    boards.apply_state(state("1", "A009", seq=2))  # older than what is shown: ignored
    boards.apply_state(state("x", "A001", seq=5))  # no address: ignored
    boards.apply_state({"counter": 3})  # malformed: ignored, never raises
    assert fake.writes == [p.frame(1, "A001"), p.frame(12, "B001"), p.frame(1, "----")]
    assert boards.shown == {"1": "----", "2": "B001"}


class CountingTransport(FakeTransport):
    """The fake port, counting the writes it refused while unplugged."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def write(self, data: bytes) -> None:
        try:
            super().write(data)
        except LedUnavailable:
            self.refused += 1
            raise


def test_unplugged_port_is_retried_and_every_board_refreshed():
    fake = CountingTransport()
    boards = LedBoards(fake, GenericAscii7Seg(), threaded=True, retry_s=0.05)
    try:
        boards.apply_state(state("1", "A001", seq=1))
        assert wait_for(lambda: len(fake.writes) == 1)
        fake.broken = True
        boards.apply_state(state("2", "B001", seq=2))
        assert wait_for(lambda: fake.refused >= 2), "the unplugged port was not tried again"
        assert len(fake.writes) == 1
        fake.broken = False
        p = GenericAscii7Seg()
        assert wait_for(lambda: p.frame(2, "B001") in fake.writes and fake.writes.count(p.frame(1, "A001")) == 2)
    finally:
        boards.close()
    assert fake.closed
