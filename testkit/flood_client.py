"""A misbehaving kiosk: publishes ``issue_ticket`` requests as fast as it can (up to a rate), in its own process.

Usage: ``python testkit/flood_client.py URL SITE CLIENT_ID SECONDS RATE [QOS]``. Prints one JSON line:
``{"sent", "seconds", "answers", "codes": {code: count}, "answers_from_s", "answers_until_s"}`` (answers counted until 1 s after the end).
Started by :func:`testkit.flood.run_flood` (``bench/bench_flood.py`` and ``tests/reliability/test_flood.py``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mqtt_bus.topics import Topics
from mqtt_bus.url import parse_broker_url


def flood(url: str, site: str, client_id: str, seconds: float, rate: float, qos: int = 1) -> dict:
    """Publish for ``seconds`` at up to ``rate`` requests/s; count the answers."""
    broker = parse_broker_url(url)
    topics = Topics(site)
    codes: Counter[str] = Counter()
    span: list[float] = []  # when answers arrived
    lock = threading.Lock()
    connected = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)

    def on_connect(c: mqtt.Client, *_: object) -> None:
        c.subscribe(topics.response(client_id), qos=1)
        connected.set()

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        answer = json.loads(msg.payload)
        with lock:
            codes["ok" if answer.get("ok") else answer["error"]["code"]] += 1
            span.append(time.perf_counter())

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit("flood client: no broker")
    time.sleep(0.2)  # the subscription is in place
    topic = topics.request(client_id)
    sent = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        if sent >= elapsed * rate:
            time.sleep(0.001)
            continue
        body = {"id": f"flood-{sent}", "action": "issue_ticket", "args": {"service": "tu-phap"}}
        client.publish(topic, json.dumps(body), qos=qos)
        sent += 1
    took = time.perf_counter() - start
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    with lock:
        return {"sent": sent, "seconds": round(took, 3), "answers": sum(codes.values()), "codes": dict(codes),
                "answers_from_s": round(span[0] - start, 3) if span else None,
                "answers_until_s": round(span[-1] - start, 3) if span else None}


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(flood(args[0], args[1], args[2], float(args[3]), float(args[4]),
                           int(args[5]) if len(args) > 5 else 1)), flush=True)
