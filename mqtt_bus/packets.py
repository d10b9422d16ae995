"""MQTT 3.1.1 control packets as bytes: built and split out of a byte stream (OASIS MQTT 3.1.1, §2-3).

Used by the hub's lean client (``mqtt_bus.lean``) and the benches' simulated devices
(``testkit.mqtt_light``); the other devices speak MQTT through paho.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
MAX_REMAINING_LENGTH = 268_435_455  # four bytes of varint (§2.2.3)

CONNACK_REFUSALS = {1: "unacceptable protocol version", 2: "client identifier rejected", 3: "server unavailable",
                    4: "bad user name or password", 5: "not authorised"}
"""CONNACK return codes other than 0 (accepted), as the broker's refusal reads (§3.2.2.3)."""


class ProtocolError(ValueError):
    """The broker sent bytes that are not MQTT 3.1.1 (the connection is dropped and made again)."""


def string(text: str | bytes) -> bytes:
    """A length-prefixed UTF-8 string (§1.5.3)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def packet(first_byte: int, body: bytes) -> bytes:
    """A control packet: the fixed header (type and flags, remaining length as a varint) and ``body``."""
    length, varint = len(body), bytearray()
    if length > MAX_REMAINING_LENGTH:
        raise ValueError(f"an MQTT packet holds at most {MAX_REMAINING_LENGTH} bytes, not {length}")
    while True:
        digit, length = length % 128, length // 128
        varint.append(digit | (0x80 if length else 0))
        if not length:
            return bytes((first_byte, *varint)) + body


def connect_packet(client_id: str, keepalive: int, username: str | None = None, password: str | None = None,
                   will: tuple[str, bytes, int, bool] | None = None) -> bytes:
    """CONNECT with a clean session; ``will``: (topic, payload, qos, retain)."""
    flags, payload = 0x02, string(client_id)
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += string(topic) + string(message)
    if username is not None:
        flags |= 0x80
        payload += string(username)
        if password is not None:
            flags |= 0x40
            payload += string(password)
    return packet(CONNECT << 4, string("MQTT") + bytes((4, flags)) + keepalive.to_bytes(2, "big") + payload)


def publish_packet(topic: bytes, payload: bytes, qos: int, retain: bool, packet_id: int = 0) -> bytes:
    """PUBLISH of ``payload`` on ``topic`` (UTF-8 bytes); ``packet_id`` only for QoS 1."""
    body = string(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload
    return packet((PUBLISH << 4) | (qos << 1) | int(retain), body)


def puback_packet(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def subscribe_packet(packet_id: int, filters: list[tuple[str, int]]) -> bytes:
    body = packet_id.to_bytes(2, "big") + b"".join(string(f) + bytes((qos,)) for f, qos in filters)
    return packet((SUBSCRIBE << 4) | 0x02, body)


def unsubscribe_packet(packet_id: int, filters: list[str]) -> bytes:
    return packet((UNSUBSCRIBE << 4) | 0x02, packet_id.to_bytes(2, "big") + b"".join(string(f) for f in filters))


def split_packets(buffer: bytearray) -> Iterator[tuple[int, bytes]]:
    """Yield (first byte, body) of each whole packet at the start of ``buffer`` and remove it from there;
    a packet not all received yet stays for the next call."""
    while len(buffer) >= 2:
        length, multiplier, i = 0, 1, 1
        while True:
            if i >= len(buffer):
                return  # the length itself is not all here yet
            digit = buffer[i]
            length += (digit & 0x7F) * multiplier
            i += 1
            if not digit & 0x80:
                break
            multiplier *= 128
            if multiplier > 128 ** 3:
                raise ProtocolError("a packet's remaining length runs over four bytes")
        if len(buffer) < i + length:
            return
        first, body = buffer[0], bytes(buffer[i:i + length])
        del buffer[:i + length]
        yield first, body


def parse_publish(first: int, body: bytes) -> tuple[str, bytes, int, bool, int]:
    """(topic, payload, qos, retain, packet id or 0) of a PUBLISH packet."""
    (topic_len,) = struct.unpack_from("!H", body)
    topic, at, qos = body[2:2 + topic_len].decode("utf-8"), 2 + topic_len, (first >> 1) & 3
    packet_id = 0
    if qos:
        packet_id = int.from_bytes(body[at:at + 2], "big")
        at += 2
    return topic, body[at:], qos, bool(first & 1), packet_id
