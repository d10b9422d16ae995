"""``qms setup province`` on a hub board: the provincial login is tested first (a wrong password is refused
and asked again), the drop-in it writes makes the center's real mosquitto bridge to a real provincial
mosquitto over TLS, and answering "không" removes the bridge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker, find_mosquitto
from qms.doctor import check_province
from qms.envfile import read_env
from testkit.province import ROOT, center_config, tls_province, wait_until

SITE = "xa-setup"


def setup_province(env_file, conf_d, answers: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qms.cli", "setup", "province", "--env-file", str(env_file),
                           "--no-restart"], cwd=ROOT, input="\n".join(answers) + "\n", capture_output=True,
                          text=True, timeout=120, env={**os.environ, "QMS_MOSQUITTO_CONF_D": str(conf_d)})


def test_setup_writes_a_tested_tls_bridge_that_carries_events_and_can_remove_it(tmp_path):
    try:
        find_mosquitto()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    province, etc, ca = tls_province(tmp_path, SITE)
    port = province.port
    env_file, conf_d = tmp_path / "qms.env", tmp_path / "conf.d"
    env_file.write_text(f"QMS_ROLES=\"hub display\"\nQMS_CONFIG={center_config(tmp_path / 'cfg', SITE)}\n")
    password = (etc / "secrets" / f"site-{SITE}").read_text().strip()
    center = None
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ingest-setup-test", protocol=mqtt.MQTTv5)
    try:
        out = setup_province(env_file, conf_d, [f"127.0.0.1:{port}", "not-the-password", str(ca), "c",
                                                f"127.0.0.1:{port}", password, str(ca)])
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.count("could not connect") == 1 and "login refused" in out.stdout, out.stdout
        assert "✓ tỉnh nhận đăng nhập / the province accepts the login" in out.stdout
        assert password not in out.stdout + out.stderr, "the password is never printed"
        drop_in = conf_d / "qms-province.conf"
        assert drop_in.stat().st_mode & 0o777 == 0o640
        text = drop_in.read_text()
        assert f"remote_username site-{SITE}" in text and f"remote_password {password}" in text
        assert f"bridge_cafile {ca}" in text and f"address 127.0.0.1:{port}" in text
        env = read_env(env_file)
        assert env["QMS_PROVINCE"] == f"127.0.0.1:{port}" and env["QMS_PROVINCE_CA"] == str(ca)
        assert env["QMS_ROLES"] == "hub display", "the other settings are kept"

        got: list[tuple[str, dict]] = []
        arrived, subscribed = threading.Event(), threading.Event()
        sub.username_pw_set("ingest", (etc / "secrets" / "ingest").read_text().strip())
        sub.tls_set(ca_certs=str(ca))
        sub.on_message = lambda c, u, msg: (got.append((msg.topic, json.loads(msg.payload))), arrived.set())
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect("127.0.0.1", port)
        sub.loop_start()
        sub.subscribe("qms/v1/+/event/#", qos=1)
        assert subscribed.wait(5)
        center = EmbeddedBroker(tmp_path / "center", extra_config=text.splitlines()).start()
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub-setup-test")
        pub.connect("127.0.0.1", center.port)
        pub.loop_start()
        event = {"seq": 1, "ts": "2026-12-01T09:00:00.000+07:00", "type": "ticket_called", "ticket": None,
                 "counter": "1"}
        for _ in range(50):  # the bridge connects within a second or two; QoS 1 queues the rest
            pub.publish(f"qms/v1/{SITE}/event/ticket_called", json.dumps(event), qos=1)
            if arrived.wait(0.2):
                break
        pub.loop_stop()
        pub.disconnect()
        assert got and got[0] == (f"qms/v1/{SITE}/event/ticket_called", event), province.log_tail()

        # qms doctor on the hub board: the bridge's own link notification, up then down
        center_url = f"mqtt://127.0.0.1:{center.port}"
        assert wait_until(lambda: check_province(center_url, SITE, drop_in).ok, 10)
        assert check_province(center_url, SITE, drop_in).detail == f"linked to 127.0.0.1:{port}"
        province.stop()
        assert wait_until(lambda: not check_province(center_url, SITE, drop_in).ok, 15)
        down = check_province(center_url, SITE, drop_in)
        assert "the link to 127.0.0.1:" in down.detail and "events wait" in down.detail, down

        out = setup_province(env_file, conf_d, ["khong"])
        assert out.returncode == 0, out.stdout + out.stderr
        assert not drop_in.exists() and read_env(env_file)["QMS_PROVINCE"] == ""
    finally:
        sub.loop_stop()
        sub.disconnect()
        if center is not None:
            center.stop()
        province.stop()

