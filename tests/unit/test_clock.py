"""The trusted-time decision (hub/clock.py): pure, driven by hand-made boot readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.clock import BootReading, ClockPolicy, ClockRef, judge, read_boot

POLICY = ClockPolicy()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
BOOT = "boot-a"


def ref(exact: bool = True, boot: str | None = BOOT, uptime: float | None = 1000.0) -> ClockRef:
    return ClockRef(T0, boot, uptime, exact)


def later(seconds: float, boot: str = BOOT) -> BootReading:
    """The boot reading ``seconds`` of real time after the reference."""
    return BootReading(boot, 1000.0 + seconds)


def test_a_new_store_believes_a_sane_clock_exactly_once_ntp_set_it():
    verdict = judge(T0, later(0), None, POLICY)
    assert verdict.trusted and verdict.now == T0 and not verdict.exact
    assert judge(T0, BootReading(BOOT, 1000.0, synced=True), None, POLICY).exact


def test_a_1970_clock_is_never_trusted_and_time_stays_at_the_newest_event():
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    after_reboot = judge(epoch + timedelta(seconds=40), BootReading("boot-b", 40.0), ref(), POLICY)
    assert not after_reboot.trusted and after_reboot.now == T0 and "not set" in after_reboot.reason
    assert not judge(epoch, later(0), None, POLICY).trusted


def test_same_boot_clock_that_agrees_with_elapsed_time_is_trusted():
    verdict = judge(T0 + timedelta(hours=3, seconds=30), later(3 * 3600), ref(), POLICY)
    assert verdict.trusted and verdict.now == T0 + timedelta(hours=3, seconds=30)


def test_same_boot_jump_a_day_ahead_is_refused_and_real_time_is_used():
    verdict = judge(T0 + timedelta(days=1, seconds=60), later(60), ref(), POLICY)
    assert not verdict.trusted and "jumped ahead" in verdict.reason
    assert verdict.now == T0 + timedelta(seconds=60) and verdict.exact


def test_same_boot_small_step_forward_within_tolerance_is_trusted():
    assert judge(T0 + timedelta(seconds=60 + 100), later(60), ref(), POLICY).trusted
    assert not judge(T0 + timedelta(seconds=60 + 140), later(60), ref(), POLICY).trusted


def test_a_little_behind_is_clamped_to_the_newest_event():
    verdict = judge(T0 - timedelta(minutes=5), later(30), ref(), POLICY)
    assert verdict.trusted and verdict.now == T0 and verdict.exact, "the same boot keeps its exact chain"
    after_reboot = judge(T0 - timedelta(minutes=5), BootReading("boot-b", 30.0), ref(), POLICY)
    assert after_reboot.trusted and after_reboot.now == T0 and not after_reboot.exact


def test_far_behind_the_newest_event_is_refused():
    verdict = judge(T0 - timedelta(hours=1), BootReading("boot-b", 50.0), ref(), POLICY)
    assert not verdict.trusted and "earlier than the newest event" in verdict.reason and verdict.now == T0


def test_same_boot_jump_back_after_a_long_idle_is_refused():
    """Idle 5 hours on the same boot, then the clock reads only 10 minutes after the newest event."""
    verdict = judge(T0 + timedelta(minutes=10), later(5 * 3600), ref(), POLICY)
    assert not verdict.trusted and "jumped back" in verdict.reason
    assert verdict.now == T0 + timedelta(hours=5)


def test_after_a_reboot_a_plausible_gap_is_trusted_and_an_implausible_one_is_not():
    overnight = judge(T0 + timedelta(days=3), BootReading("boot-b", 30.0), ref(), POLICY)
    assert overnight.trusted and overnight.now == T0 + timedelta(days=3) and not overnight.exact
    assert judge(T0 + timedelta(days=3), BootReading("boot-b", 30.0, synced=True), ref(), POLICY).exact
    far = judge(T0 + timedelta(days=20), BootReading("boot-b", 30.0), ref(), POLICY)
    assert not far.trusted and "implausibly far" in far.reason and far.now == T0 and not far.exact


def test_a_lower_bound_reference_accepts_the_time_sync_after_a_bad_boot():
    """After a 1970 boot the reference is only a lower bound: the NTP step hours later is accepted."""
    bound = ClockRef(T0, BOOT, 1000.0, exact=False)
    verdict = judge(T0 + timedelta(hours=14), later(600), bound, POLICY)
    assert verdict.trusted and verdict.now == T0 + timedelta(hours=14)


def test_after_a_reboot_the_first_ntp_step_is_accepted_then_jumps_are_caught():
    """fake-hwclock restores last evening's time at boot; chrony steps it to the morning; later a bad jump."""
    restored = judge(T0 + timedelta(minutes=30), BootReading("boot-b", 20.0), ref(), POLICY)
    assert restored.trusted and not restored.exact
    boot_b = restored.next_ref(BootReading("boot-b", 20.0))
    synced_boot = BootReading("boot-b", 620.0, synced=True)
    step = judge(T0 + timedelta(hours=14), synced_boot, boot_b, POLICY)
    assert step.trusted and step.exact, "the boot's first sync is not a jump"
    jump = judge(T0 + timedelta(days=1, hours=14), BootReading("boot-b", 680.0, synced=True),
                 step.next_ref(synced_boot), POLICY)
    assert not jump.trusted and jump.now == T0 + timedelta(hours=14, seconds=60)


def test_uptime_going_backwards_means_another_boot():
    verdict = judge(T0 + timedelta(days=1), BootReading(BOOT, 10.0), ref(), POLICY)
    assert verdict.trusted, "not the same boot (uptime went back), so a day's gap is plausible"


def test_reference_round_trips_through_json():
    original = ClockRef(T0, BOOT, 1234.56, exact=True)
    assert ClockRef.from_json(original.to_json()) == original
    synced = BootReading(BOOT, 1000.0, synced=True)
    assert judge(T0, synced, None, POLICY).next_ref(synced) == ClockRef(T0, BOOT, 1000.0, True)


def test_read_boot_reads_this_machine():
    reading = read_boot()
    assert reading.boot_id and reading.uptime_s is not None and reading.uptime_s > 0


@given(wall_offset_s=st.integers(-30 * 86400, 30 * 86400), elapsed_s=st.integers(0, 30 * 86400),
       same_boot=st.booleans(), exact=st.booleans())
def test_time_never_goes_back_before_the_newest_event(wall_offset_s, elapsed_s, same_boot, exact):
    boot = later(elapsed_s) if same_boot else BootReading("boot-b", 5.0)
    verdict = judge(T0 + timedelta(seconds=wall_offset_s), boot, ref(exact), POLICY)
    assert verdict.now >= T0
    if verdict.trusted:
        assert verdict.now == max(T0, T0 + timedelta(seconds=wall_offset_s))

