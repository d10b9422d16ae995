"""Topic building/parsing and broker URL parsing (pure, no broker)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from mqtt_bus.contract import EventType
from mqtt_bus.topics import KINDS, ParsedTopic, Topics, topic_matches, validate_id
from mqtt_bus.url import BrokerAddress, parse_broker_url

T = Topics("xa-demo")
ids = st.text(st.characters(blacklist_characters="/+#\0", blacklist_categories=("Cs",)), min_size=1, max_size=30)


def test_concrete_topics():
    assert T.root == "qms/v1/xa-demo"
    assert T.status("kiosk-1") == "qms/v1/xa-demo/status/kiosk-1"
    assert T.request("counter-3") == "qms/v1/xa-demo/request/counter-3"
    assert T.response("counter-3") == "qms/v1/xa-demo/response/counter-3"
    assert T.state_counter("c1") == "qms/v1/xa-demo/state/counter/c1"
    assert T.state_service("HT") == "qms/v1/xa-demo/state/service/HT"
    assert T.state_device("kiosk-1") == "qms/v1/xa-demo/state/device/kiosk-1"
    assert T.event(EventType.TICKET_CALLED) == "qms/v1/xa-demo/event/ticket_called"


def test_wildcards():
    assert T.requests_all == "qms/v1/xa-demo/request/+"
    assert T.responses_all == "qms/v1/xa-demo/response/+"
    assert T.status_all == "qms/v1/xa-demo/status/+"
    assert T.events_all == "qms/v1/xa-demo/event/+"
    assert T.state_all == "qms/v1/xa-demo/state/#"
    assert T.state_counters_all == "qms/v1/xa-demo/state/counter/+"
    assert T.state_services_all == "qms/v1/xa-demo/state/service/+"
    assert T.state_devices_all == "qms/v1/xa-demo/state/device/+"
    assert T.all == "qms/v1/xa-demo/#"


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#", "x#y", "nul\0"])
def test_invalid_ids_are_refused(bad):
    with pytest.raises(ValueError, match="client_id"):
        T.request(bad)
    with pytest.raises(ValueError, match="site"):
        Topics(bad)


def test_validate_id_message_names_the_character():
    with pytest.raises(ValueError, match=r"must not contain '/'"):
        validate_id("a/b", "counter id")
    with pytest.raises(ValueError, match="must be a string"):
        validate_id(3, "counter id")  # type: ignore[arg-type]


def test_parse():
    assert T.parse("qms/v1/xa-demo/request/kiosk-1") == ("request", "kiosk-1")
    assert T.parse("qms/v1/xa-demo/state/counter/c1") == ParsedTopic("state/counter", "c1")
    assert T.parse("qms/v1/xa-demo/event/ticket_issued").kind == "event"


@pytest.mark.parametrize("topic", [
    "qms/v1/other/request/kiosk-1",      # other site
    "qms/v1/xa-demo-2/request/kiosk-1",  # prefix of the site name only
    "qms/v2/xa-demo/request/kiosk-1",
    "qms/v1/xa-demo",
    "qms/v1/xa-demo/",
    "qms/v1/xa-demo/request",
    "qms/v1/xa-demo/request/",
    "qms/v1/xa-demo/request/a/b",
    "qms/v1/xa-demo/state/queue/x",
    "qms/v1/xa-demo/state/counter",
    "qms/v1/xa-demo/unknown/x",
    "qms/v1/xa-demo/request/+",
])
def test_parse_rejects(topic):
    with pytest.raises(ValueError):
        T.parse(topic)


@given(site=ids, ident=ids)
def test_build_then_parse_roundtrip(site, ident):
    t = Topics(site)
    built = {
        "status": t.status, "request": t.request, "response": t.response, "state/counter": t.state_counter,
        "state/service": t.state_service, "state/device": t.state_device, "event": t.event,
    }
    assert set(built) == set(KINDS)
    for kind, make in built.items():
        assert t.parse(make(ident)) == (kind, ident)


# -- broker URLs ---------------------------------------------------------------------------------
def test_parse_plain_url():
    assert parse_broker_url("mqtt://192.168.1.10:1883") == BrokerAddress("192.168.1.10", 1883, None, None, False)


def test_parse_url_with_credentials_and_tls():
    a = parse_broker_url("mqtts://counter-3:p%40ss:w@hub.local:8884")
    assert a == BrokerAddress("hub.local", 8884, "counter-3", "p@ss:w", True)
    assert a.url() == "mqtts://counter-3:***@hub.local:8884"
    assert parse_broker_url(a.url(hide_password=False)) == a
    assert "p@ss" not in str(a)


def test_default_ports_and_user_without_password():
    assert parse_broker_url("mqtt://hub").port == 1883
    assert parse_broker_url("mqtts://hub").port == 8883
    a = parse_broker_url(" mqtt://kiosk-1@hub:1884/ ")
    assert (a.username, a.password, a.port) == ("kiosk-1", None, 1884)


def test_ipv6_host():
    a = parse_broker_url("mqtt://[::1]:1883")
    assert a.host == "::1" and a.url() == "mqtt://[::1]:1883"


@pytest.mark.parametrize(("url", "problem"), [
    ("", "empty"),
    ("embedded", "EmbeddedBroker"),
    ("192.168.1.10:1883", "missing scheme"),
    ("http://hub:1883", "unsupported scheme"),
    ("mqtt://:1883", "missing host"),
    ("mqtt://hub:abc", "port"),
    ("mqtt://hub:70000", "port"),
    ("mqtt://hub:0", "port"),
    ("mqtt://hub:", "empty port"),
    ("mqtt://hub:1883/qms", "path"),
    ("mqtt://hub:1883?x=1", "query"),
    ("mqtt://:pw@hub:1883", "password given without a user"),
])
def test_bad_urls_name_the_problem_and_show_an_example(url, problem):
    with pytest.raises(ValueError) as err:
        parse_broker_url(url)
    msg = str(err.value)
    assert problem in msg and "mqtt://counter-3:secret@192.168.1.10:1883" in msg


def test_the_lean_transport_leaves_tls_to_paho():
    """The hub's lean client speaks plain MQTT only: for an ``mqtts://`` broker BusClient keeps paho (and its TLS)."""
    import paho.mqtt.client as mqtt

    from mqtt_bus.client import BusClient
    from mqtt_bus.lean import LeanClient

    plain = BusClient("mqtt://hub:p@127.0.0.1:1", "xa-a", "hub", "hub", transport="lean")
    secure = BusClient("mqtts://hub:p@127.0.0.1:1", "xa-a", "hub", "hub", transport="lean")
    assert isinstance(plain._mqtt, LeanClient)
    assert isinstance(secure._mqtt, mqtt.Client)
    with pytest.raises(ValueError, match="transport must be"):
        BusClient("mqtt://127.0.0.1:1", "xa-a", "hub", "hub", transport="fast")


def test_topic_matches_as_paho_does():
    filters = ["#", "+", "a", "a/#", "a/+", "a/+/c", "+/+", "+/b/#", "a/b/c", "/#", "+/", "$SYS/#", "$SYS/+", "a//c",
               "qms/v1/xa/state/#", "qms/v1/+/status/+"]
    topics = ["a", "b", "a/b", "a/b/c", "a/b/c/d", "/a", "a/", "/", "", "a//c", "$SYS/x", "$SYS", "qms/v1/xa/state/counter/1",
              "qms/v1/xa/status/kiosk-1", "qms/v1/xa/status/kiosk-1/x"]
    seen = set()
    for f in filters:
        for t in topics:
            seen.add(topic_matches(f, t))
            assert topic_matches(f, t) == topic_matches_sub(f, t), (f, t)
    assert seen == {True, False}
