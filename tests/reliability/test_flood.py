"""A kiosk floods the hub (testkit.flood, as bench/bench_flood.py, in its own processes) while 6 counters work.

Issue 13: a kiosk sending 10,000 requests/s made a counter wait 10.6 s and took every number of a
service in 2 minutes. Now the counters' ``call_next`` p99 stays under 200 ms, the kiosk is told
``rate_limited`` (at most once a second, the rest dropped and counted in one log line), and it gets
no more tickets than the issue limit allows.

On the appliance the kiosk, the pads and the hub are separate boards. Here they share 2 cores with
other work, so the flood client runs niced, the hub and broker at nice -5 when allowed (root), and the
store sits on tmpfs: the figures measure the hub's fairness, not the neighbours' disk and CPU. Other
work can still stall every process at once (the baseline before the flood shows such stalls), so the
latency bound gets a second run when the first one is spoiled; the behaviour checks hold for both.
"""

from __future__ import annotations

from pathlib import Path

from mqtt_bus.contract import ErrorCode
from testkit.flood import FloodSpec, report, run_flood
from testkit.stats import percentile

P99_BOUND_MS = 200.0


def _check_behaviour(result, spec) -> None:
    assert result.errors == []
    assert result.hub_exit == 0
    flood = result.flood
    assert flood["sent"] >= 2_000 * spec.seconds, "the flood client did not flood (the test proves nothing)"
    assert len(result.flood_ms) >= 50 and result.baseline_ms
    codes = flood["codes"]
    assert codes.get("ok") == 10, "the kiosk gets the issue limit's 10 tickets a minute, no more"
    assert codes.get(ErrorCode.RATE_LIMITED, 0) >= 1 and set(codes) == {"ok", ErrorCode.RATE_LIMITED}
    # answered: what the token bucket let through (burst 40 + 20/s) plus one refusal a second while
    # the flood lasted (the niced client may still be sending after its loop); the rest were dropped
    assert flood["answers"] <= 40 + (20 + 1) * (flood["answers_until_s"] + 1)
    assert flood["answers"] < flood["sent"] / 20
    # one summary line per 10 s while drops go on (a loaded machine stretches the 5 s flood), not one per request
    assert 1 <= result.hub_log_flood_lines <= 3 + flood["answers_until_s"] / 10, "drops are logged as counts"


def test_flooding_kiosk_does_not_delay_the_counters(broker):  # broker: skip cleanly where mosquitto is missing
    spec = FloodSpec(seconds=5.0, rate=10_000.0, hub_nice=-5,
                           tmp_root="/dev/shm" if Path("/dev/shm").is_dir() else None)
    p99s = []
    for _attempt in range(2):
        result = run_flood(spec)
        print("\n" + report(result))
        _check_behaviour(result, spec)
        p99s.append(percentile(result.flood_ms, 99))
        if p99s[-1] < P99_BOUND_MS:
            break
    assert min(p99s) < P99_BOUND_MS, f"counter call_next p99 during the flood: {p99s} ms"
