"""MQTT 3.1.1 packet bytes (mqtt_bus/packets.py) against the spec's layout (OASIS MQTT 3.1.1, §2-3)."""

from __future__ import annotations

import pytest

from mqtt_bus.packets import (
    CONNACK,
    DISCONNECT_PACKET,
    PINGREQ_PACKET,
    PUBACK,
    PUBLISH,
    ProtocolError,
    connect_packet,
    packet,
    parse_publish,
    puback_packet,
    publish_packet,
    split_packets,
    string,
    subscribe_packet,
)

TOPIC_VI = "qms/v1/xã-đà-huoai/sự-kiện/gọi-số"

# (remaining length, its varint as §2.2.3's table gives the bounds of each length of varint)
VARINTS = [
    (0, b"\x00"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (16_383, b"\xff\x7f"),
    (16_384, b"\x80\x80\x01"),
    (2_097_151, b"\xff\xff\x7f"),
    (2_097_152, b"\x80\x80\x80\x01"),
]


@pytest.mark.parametrize(("length", "varint"), VARINTS)
def test_remaining_length_round_trips_at_each_varint_bound(length: int, varint: bytes) -> None:
    body = bytes(i % 251 for i in range(length))
    pkt = packet(0x32, body)
    assert pkt[:1 + len(varint)] == b"\x32" + varint
    assert len(pkt) == 1 + len(varint) + length
    buffer = bytearray(pkt + b"\xc0")  # and the first byte of the next packet
    assert list(split_packets(buffer)) == [(0x32, body)]
    assert buffer == b"\xc0", "the next packet's start stays for the next call"


def test_a_packet_longer_than_mqtt_allows_is_refused() -> None:
    class Huge(bytes):
        def __len__(self) -> int:
            return 268_435_456

    with pytest.raises(ValueError, match="at most 268435455"):
        packet(0x30, Huge())


def stream() -> tuple[bytes, list[tuple[int, bytes]]]:
    """Several packets back to back (lengths of one, two and three varint bytes) and what splitting gives."""
    expected = [
        (CONNACK << 4, b"\x00\x00"),
        (0x32, string(TOPIC_VI) + b"\x00\x07" + "số A0042".encode()),
        (0xd0, b""),  # PINGRESP
        (0x30, string("big") + bytes(range(256)) * 80),  # 20 485 bytes: a three-byte varint
        (PUBACK << 4, b"\x12\x34"),
    ]
    return b"".join(packet(first, body) for first, body in expected), expected


def test_a_stream_fed_one_byte_at_a_time_splits_as_when_fed_at_once() -> None:
    data, expected = stream()
    at_once = bytearray(data)
    assert list(split_packets(at_once)) == expected
    assert at_once == b""

    buffer, got = bytearray(), []
    for i in range(len(data)):
        buffer.append(data[i])
        got.extend(split_packets(buffer))
    assert got == expected
    assert buffer == b"", "nothing left behind"


def test_a_partial_packet_waits_for_the_rest() -> None:
    buffer = bytearray(b"\x30\xff\xff\xff\x7f" + b"x" * 100)  # the largest length, most of its body missing
    assert list(split_packets(buffer)) == []
    assert len(buffer) == 105


@pytest.mark.parametrize("header", [b"\x30\xff\xff\xff\xff\x01", b"\x30\x80\x80\x80\x80"])
def test_a_five_byte_remaining_length_is_a_protocol_error(header: bytes) -> None:
    with pytest.raises(ProtocolError, match="over four bytes"):
        list(split_packets(bytearray(header + b"\x00" * 16)))


def test_parse_publish_qos0_retained_with_vietnamese_topic() -> None:
    topic = TOPIC_VI.encode()
    # §3.3: type 3, DUP 0, QoS 00, RETAIN 1; topic (byte length, UTF-8); no packet id at QoS 0
    body = len(topic).to_bytes(2, "big") + topic + b'{"n":"A0001"}'
    assert len(topic) > len(TOPIC_VI), "the length prefix counts bytes, not characters"
    assert publish_packet(topic, b'{"n":"A0001"}', 0, True) == packet(0x31, body)
    assert parse_publish(0x31, body) == (TOPIC_VI, b'{"n":"A0001"}', 0, True, 0)


def test_parse_publish_qos1_with_packet_id() -> None:
    topic = TOPIC_VI.encode()
    payload = "Mời số A0042 đến quầy 3".encode()
    body = len(topic).to_bytes(2, "big") + topic + b"\xbe\xef" + payload
    assert publish_packet(topic, payload, 1, False, 0xBEEF) == packet(0x32, body)
    assert parse_publish(0x32, body) == (TOPIC_VI, payload, 1, False, 0xBEEF)
    assert parse_publish(0x3a, body)[2:] == (1, False, 0xBEEF), "a DUP (resent) message reads the same"
    assert parse_publish(PUBLISH << 4 | 0x03, body)[2:] == (1, True, 0xBEEF)


def test_parse_publish_empty_payload_clears_retained() -> None:
    body = string("a/b") + b"\x00\x01"
    assert parse_publish(0x33, body) == ("a/b", b"", 1, True, 1)


# §3.1.2: protocol name "MQTT" (00 04 4D 51 54 54) and level 4
HEADER = b"\x00\x04MQTT\x04"


def test_connect_clean_session_only() -> None:
    # flags 0000 0010: clean session; keepalive 15 = 00 0F; payload: the client id
    assert connect_packet("hub", 15) == b"\x10\x0f" + HEADER + b"\x02\x00\x0f" + b"\x00\x03hub"


def test_connect_with_will_qos1_retained() -> None:
    will = ("qms/v1/x/status/hub", b'{"online":false}', 1, True)
    # flags 0010 1110: will retain (bit 5), will QoS 01 (bits 4-3), will flag (bit 2), clean session (bit 1)
    body = (HEADER + b"\x2e\x00\x3c" + b"\x00\x03hub" + b"\x00\x13qms/v1/x/status/hub"
            + b"\x00\x10" + b'{"online":false}')
    assert connect_packet("hub", 60, will=will) == b"\x10" + bytes([len(body)]) + body


def test_connect_with_user_name_and_password() -> None:
    # flags 1100 0010: user name (bit 7), password (bit 6), clean session; payload order: id, user, password
    body = HEADER + b"\xc2\x00\x00" + b"\x00\x09counter-3" + b"\x00\x09counter-3" + b"\x00\x07pw-\xc4\x90\xc3\xa0"
    assert connect_packet("counter-3", 0, "counter-3", "pw-Đà") == b"\x10" + bytes([len(body)]) + body


def test_connect_with_everything_orders_will_before_user_name() -> None:
    pkt = connect_packet("k", 5, "u", "p", will=("w", b"x", 1, False))
    # flags 1100 1110: user, password, will QoS 1, will flag, clean session (no will retain)
    assert pkt == b"\x10\x19" + HEADER + b"\xce\x00\x05" + b"\x00\x01k" + b"\x00\x01w\x00\x01x" + b"\x00\x01u\x00\x01p"


def test_connect_with_user_name_without_password() -> None:
    pkt = connect_packet("k", 1, "u")
    assert pkt[9] == 0x82, "user name flag only"
    assert pkt.endswith(b"\x00\x01k\x00\x01u")


def test_small_packets() -> None:
    assert puback_packet(0x1234) == b"\x40\x02\x12\x34"  # §3.4
    assert PINGREQ_PACKET == b"\xc0\x00" and DISCONNECT_PACKET == b"\xe0\x00"  # §3.12, §3.14
    # §3.8: type 8 with flags 0010; packet id; each filter and its requested QoS
    assert subscribe_packet(7, [("a/+", 1), ("b/#", 0)]) == b"\x82\x0e\x00\x07" + b"\x00\x03a/+\x01" + b"\x00\x03b/#\x00"
