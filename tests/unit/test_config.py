"""Site config: the default loads and converts; every bad case names the key path and the YAML line."""

from __future__ import annotations

import io
from datetime import time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from qms.config import (
    ConfigError,
    SiteConfig,
    default_config_path,
    load_config,
    parse_config,
    parse_document,
    to_site_def,
    yaml_rt,
)
from qms.config.fields import Text, TextList, slugify
from qms.config.pin import hash_pin, is_pin_hash, verify_pin
from queue_core.model import CounterStatus, SiteDef

DEFAULT = default_config_path().read_text(encoding="utf-8")


# ---- helpers ------------------------------------------------------------------------------------


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based line of the first ``needle`` at or after character ``start``."""
    pos = text.index(needle, start)
    return text.count("\n", 0, pos) + 1


def item_start(text: str, item_id: str) -> int:
    """Character offset of the list item ``- id: item_id``."""
    return text.index(f"- id: {item_id}\n")


def edit(text: str, old: str, new: str, after: str | None = None) -> str:
    """Replace the first ``old`` (after the item ``- id: after`` when given)."""
    start = item_start(text, after) if after else 0
    pos = text.index(old, start)
    return text[:pos] + new + text[pos + len(old) :]


def problems(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "test.yaml")
    return info.value


def the_problem(text: str, path: str) -> tuple[int | None, str]:
    """(line, message) of the problem at ``path``; fails listing all problems if absent."""
    err = problems(text)
    found = [p for p in err.problems if p.path == path]
    assert found, f"no problem at {path}; got:\n{err}"
    return found[0].line, found[0].message


# ---- the default config ------------------------------------------------------------------------


def test_default_config_loads_and_converts() -> None:
    cfg = load_config(default_config_path())
    assert cfg.site.id == "xa-da-huoai"
    assert cfg.default_language == "vi"
    site = to_site_def(cfg)
    assert isinstance(site, SiteDef)
    assert site.site == "xa-da-huoai"
    assert site.name.startswith("Trung tâm Phục vụ hành chính công xã")
    assert site.tz == ZoneInfo("Asia/Ho_Chi_Minh")
    assert list(site.services) == [s.id for s in cfg.services]
    assert len({s.prefix for s in site.services.values()}) == len(site.services)
    assert site.services["tu-phap"].prefix == "A"
    assert site.services["tu-phap"].name == "Tư pháp – Hộ tịch"
    assert "khai-sinh" in site.services["tu-phap"].procedures
    assert site.services["tu-phap"].format_number(7) == "A007"
    assert len(site.counters) == 6
    assert "huong-dan" in site.counters["1"].services
    assert site.counters["1"].initial_status is CounterStatus.OPEN
    assert site.priorities == ("elderly", "disabled", "pregnant")
    assert site.policy.kind == "ratio" and site.policy.ratio_normal == 2
    assert site.policy.ageing_bonus_s == 15 * 60
    assert site.default_service_s == 300
    assert site.enforce_hours is True
    assert site.hours is not None
    assert site.hours.weekdays == frozenset(range(6))
    assert site.hours.describe() == "07:30–11:30, 13:30–17:00"
    for c in site.counters.values():
        assert set(c.services) <= set(site.services)


def test_default_config_content_is_complete() -> None:
    cfg = load_config(default_config_path())
    assert cfg.guidance_service == "huong-dan"
    assert [s.prefix for s in cfg.services][:7] == ["G", "A", "B", "C", "D", "E", "F"]
    for s in cfg.services:
        assert s.name.text("en") != s.name.text("vi")
        assert cfg.counters_for_service(s.id), s.id
        for p in s.procedures:
            assert p.name.text("en") and p.documents is not None
            assert p.documents.text("vi") and p.documents.text("en")
    for c in cfg.counters:
        assert len(c.officers) >= 2
    assert cfg.kiosk.admin_pin_hash is not None
    assert verify_pin("2468", cfg.kiosk.admin_pin_hash)


def test_lookup_helpers() -> None:
    cfg = load_config(default_config_path())
    assert cfg.service("chung-thuc").prefix == "B"
    service, proc = cfg.procedure("ket-hon")
    assert service.id == "tu-phap" and proc.name.text("en") == "Marriage registration"
    assert [c.id for c in cfg.counters_for_service("chung-thuc")] == ["2", "3"]
    assert cfg.counter("1").officers
    assert cfg.priority("elderly").name.text("en") == "Elderly (60+)"
    for lookup in (cfg.service, cfg.procedure, cfg.counter, cfg.priority):
        with pytest.raises(KeyError):
            lookup("nope")
    assert cfg.counters_for_service("nope") == []


def test_default_path_is_in_the_repo() -> None:
    path = default_config_path()
    assert path.is_file() and path.parent.name == "config" and path.name == "commune.yaml"


def test_round_trip_through_json_dump() -> None:
    cfg = load_config(default_config_path())
    again = SiteConfig.model_validate(cfg.model_dump(mode="json"))
    assert again == cfg
    assert cfg.model_dump(mode="json")["hours"]["periods"] == ["07:30-11:30", "13:30-17:00"]


def test_round_trip_yaml_keeps_the_file_byte_for_byte() -> None:
    buf = io.StringIO()
    yaml_rt().dump(parse_document(DEFAULT), buf)
    assert buf.getvalue() == DEFAULT


# ---- localized text -----------------------------------------------------------------------------


def test_text_plain_string_is_vietnamese_and_falls_back() -> None:
    t = Text.model_validate("Quầy số 1")
    assert t.text("vi") == t.text("en") == str(t) == "Quầy số 1"
    t2 = Text.model_validate({"vi": "Quầy số 1", "en": "Counter 1"})
    assert t2.text("en") == "Counter 1" and t2.text("fr") == "Quầy số 1"
    docs = TextList.model_validate(["CCCD"])
    assert docs.text("en") == ["CCCD"]


def test_plain_string_names_accepted_in_file() -> None:
    text = edit(DEFAULT, 'name: {vi: "Quầy số 2", en: "Counter 2"}', "name: Quầy hai")
    cfg = parse_config(text)
    assert cfg.counter("2").name.text("en") == "Quầy hai"


def test_text_without_vi() -> None:
    text = edit(DEFAULT, 'name: {vi: "Quầy số 2", en: "Counter 2"}', 'name: {en: "Counter 2"}')
    line, msg = the_problem(text, "counters[1].name")
    assert line == line_of(text, 'name: {en: "Counter 2"}')
    assert "vi" in msg


def test_text_language_not_in_site_languages() -> None:
    text = edit(DEFAULT, 'en: "Counter 4"', 'em: "Counter 4"')
    line, msg = the_problem(text, "counters[3].name.em")
    assert line == line_of(text, 'em: "Counter 4"')
    assert 'did you mean "en"' in msg


# ---- each bad case: key path + line ------------------------------------------------------------


def test_wrong_type_whole_number() -> None:
    text = edit(DEFAULT, "end: 999", 'end: "abc"', after="chung-thuc")
    line, msg = the_problem(text, "services[2].numbers.end")
    assert line == line_of(text, 'end: "abc"')
    assert msg == 'expected a whole number, got "abc"'
    assert f'services[2].numbers.end: expected a whole number, got "abc" (line {line})' in str(problems(text))


@pytest.mark.parametrize(
    ("old", "new", "path", "expect"),
    [
        ("voice: true", "voice: maybe", "kiosk.voice", "expected true or false"),
        ("history: 6", "history: 2.5", "display.history", "expected a whole number, got 2.5"),
        ("max_recalls: 2", "max_recalls: true", "queue.max_recalls", "expected a whole number, got true"),
        ("max_recalls: 2", "max_recalls: -1", "queue.max_recalls", "must be at least 0, got -1"),
        ("languages: [vi, en]", "languages: vi", "site.languages", "expected a list"),
        ("policy: ratio", "policy: ratoi", "queue.policy", 'did you mean "ratio"'),
        ("width_mm: 80", "width_mm: 70", "printer.width_mm", "expected one of: 58, 80"),
        ("broker: embedded", "broker: 192.168.1.10", "broker", "mqtt://"),
        ('url: "virtual://"', 'url: "COM3"', "printer.url", "serial://"),
        ("id: xa-da-huoai", "id: Xã Đạ Huoai", "site.id", 'did you mean "xa-da-huoai"'),
        ('admin_pin_hash: "', 'admin_pin_hash: "2468', "kiosk.admin_pin_hash", "python -m qms.config.pin"),
    ],
)
def test_wrong_values(old: str, new: str, path: str, expect: str) -> None:
    text = edit(DEFAULT, old, new)
    line, msg = the_problem(text, path)
    assert line == line_of(text, new)
    assert expect in msg


def test_unknown_key_with_suggestion() -> None:
    text = edit(DEFAULT, "  ratio_normal: 2", "  ratio_nromal: 2")
    line, msg = the_problem(text, "queue.ratio_nromal")
    assert line == line_of(text, "ratio_nromal")
    assert msg.startswith('unknown key "ratio_nromal"') and 'did you mean "ratio_normal"' in msg


def test_unknown_key_without_close_match_lists_valid_keys() -> None:
    text = edit(DEFAULT, "  history: 6", "  zzz: 6")
    _, msg = the_problem(text, "display.zzz")
    assert "valid keys here: notice, history, announce_repeat, announce_mode, announce_missed_s" in msg


def test_missing_required_key() -> None:
    text = edit(DEFAULT, "    prefix: C\n", "")
    line, msg = the_problem(text, "services[3].prefix")
    assert line == line_of(text, "- id: dat-dai")
    assert msg.startswith('missing required key "prefix"') and "capital letter" in msg


def test_missing_top_level_section() -> None:
    start = DEFAULT.index("counters:\n  - id:")
    end = DEFAULT.index("# --- Máy in")
    text = DEFAULT[:start] + DEFAULT[end:]
    line, msg = the_problem(text, "counters")
    assert line is None and 'missing required key "counters"' in msg


def test_duplicate_prefix_names_both_services_and_lines() -> None:
    text = edit(DEFAULT, "prefix: C", "prefix: A")
    line, msg = the_problem(text, "services[3].prefix")
    assert line == line_of(text, "prefix: A", item_start(text, "dat-dai"))
    first_line = line_of(text, "prefix: A", item_start(text, "tu-phap"))
    assert "Đất đai – Xây dựng" in msg and "Tư pháp – Hộ tịch" in msg
    assert f"services[1].prefix, line {first_line}" in msg


def test_duplicate_service_id() -> None:
    text = edit(DEFAULT, "- id: kinh-te\n", "- id: dat-dai\n")
    err = problems(text)
    found = [p for p in err.problems if p.path == "services[5].id"]
    assert found and "already used" in found[0].message
    assert found[0].line == line_of(text, "- id: dat-dai", item_start(text, "xa-hoi"))
    assert f"services[3].id, line {line_of(text, '- id: dat-dai')}" in found[0].message


def test_duplicate_counter_id() -> None:
    text = edit(DEFAULT, '- id: "4"', '- id: "3"')
    line, msg = the_problem(text, "counters[3].id")
    assert line == line_of(text, '- id: "3"', DEFAULT.index('- id: "3"') + 5)
    assert "already used" in msg


def test_duplicate_procedure_id_across_services() -> None:
    text = edit(DEFAULT, "- id: mai-tang-phi", "- id: khai-sinh")
    line, msg = the_problem(text, "services[4].procedures[1].id")
    assert line == line_of(text, "- id: khai-sinh", item_start(text, "xa-hoi"))
    assert "services[1].procedures[0].id" in msg


def test_counter_names_unknown_service() -> None:
    text = edit(DEFAULT, "services: [xa-hoi, van-hoa]", "services: [xa-hoi, van-hao]")
    line, msg = the_problem(text, "counters[4].services[1]")
    assert line == line_of(text, "services: [xa-hoi, van-hao]")
    assert 'unknown service "van-hao"' in msg and 'did you mean "van-hoa"' in msg
    assert "valid service ids: huong-dan, tu-phap, chung-thuc, dat-dai, xa-hoi, kinh-te, van-hoa" in msg


def test_service_served_by_no_counter() -> None:
    text = edit(DEFAULT, "services: [xa-hoi, van-hoa]", "services: [xa-hoi]")
    line, msg = the_problem(text, "services[6].id")
    assert line == line_of(text, "- id: van-hoa")
    assert "not called at any counter" in msg


def test_guidance_service_unknown() -> None:
    text = edit(DEFAULT, "guidance_service: huong-dan", "guidance_service: huongdan")
    line, msg = the_problem(text, "guidance_service")
    assert line == line_of(text, "guidance_service: huongdan")
    assert 'did you mean "huong-dan"' in msg and "valid service ids:" in msg


def test_bad_timezone() -> None:
    text = edit(DEFAULT, "timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Hanoi")
    line, msg = the_problem(text, "site.timezone")
    assert line == line_of(text, "timezone: Asia/Hanoi")
    assert "Asia/Ho_Chi_Minh" in msg


@pytest.mark.parametrize(
    ("period", "expect"),
    [
        ('"7h30"', "HH:MM-HH:MM"),
        ('"11:30-07:30"', "end must be later"),
        ('"25:00-26:00"', "hours go 00-23"),
    ],
)
def test_bad_period(period: str, expect: str) -> None:
    text = edit(DEFAULT, '"07:30-11:30"', period)
    line, msg = the_problem(text, "hours.periods[0]")
    assert line == line_of(text, period)
    assert expect in msg


def test_overlapping_periods() -> None:
    text = edit(DEFAULT, '"13:30-17:00"', '"11:00-17:00"')
    line, msg = the_problem(text, "hours.periods[1]")
    assert line == line_of(text, '"11:00-17:00"') and "overlap" in msg


def test_period_variants_accepted() -> None:
    text = edit(DEFAULT, '"07:30-11:30", "13:30-17:00"', '"7:30 – 11:30", 13:30-17:00')
    cfg = parse_config(text)
    assert cfg.hours is not None and cfg.hours.periods[0] == (time(7, 30), time(11, 30))


def test_number_range_end_before_start() -> None:
    text = edit(DEFAULT, "{start: 1, end: 999,", "{start: 100, end: 50,", after="xa-hoi")
    line, msg = the_problem(text, "services[4].numbers.end")
    assert line == line_of(text, "{start: 100, end: 50,")
    assert "end (50) is smaller than start (100)" in msg


def test_pad_too_small_for_end() -> None:
    text = edit(DEFAULT, "end: 999, pad: 3", "end: 9999, pad: 3", after="kinh-te")
    line, msg = the_problem(text, "services[5].numbers.pad")
    assert line == line_of(text, "end: 9999, pad: 3")
    assert "use pad: 4" in msg


@pytest.mark.parametrize("prefix", ["b", "BB", "1", "Đ"])
def test_prefix_must_be_one_capital_letter(prefix: str) -> None:
    text = edit(DEFAULT, "prefix: B", f'prefix: "{prefix}"')
    line, msg = the_problem(text, "services[2].prefix")
    assert line == line_of(text, f'prefix: "{prefix}"')
    assert "one capital letter A-Z" in msg


def test_reserved_priority_id() -> None:
    text = edit(DEFAULT, "  - id: disabled", "  - id: normal")
    line, msg = the_problem(text, "priorities[1].id")
    assert line == line_of(text, "- id: normal")
    assert "reserved" in msg


def test_yaml_syntax_error_line_and_column() -> None:
    text = edit(DEFAULT, "  max_recalls: 2", '  max_recalls: "2')
    err = problems(text)
    assert len(err.problems) == 1
    p = err.problems[0]
    assert p.path == "(file)" and "YAML syntax error" in p.message and "column" in p.message
    assert p.line is not None and p.line >= line_of(text, 'max_recalls: "2')


def test_yaml_tab_indentation() -> None:
    text = edit(DEFAULT, "  ratio_normal: 2", "\tratio_normal: 2")
    err = problems(text)
    assert err.problems[0].line == line_of(text, "\tratio_normal")
    assert "tabs" in err.problems[0].message


def test_yaml_duplicate_key() -> None:
    text = edit(DEFAULT, "  max_recalls: 2", "  max_recalls: 3\n  max_recalls: 2")
    err = problems(text)
    assert err.problems[0].line == line_of(text, "max_recalls: 2")
    assert 'key "max_recalls" appears twice' in err.problems[0].message


@pytest.mark.parametrize(
    ("text", "expect"), [("", "empty"), ("# only a comment\n", "empty"), ("- a\n- b\n", "at the top")]
)
def test_not_a_config(text: str, expect: str) -> None:
    err = problems(text)
    assert expect in str(err)


def test_windows_line_endings() -> None:
    text = edit(DEFAULT, "voice: true", "voice: maybe")
    line, _ = the_problem(text.replace("\n", "\r\n"), "kiosk.voice")
    assert line == line_of(text, "voice: maybe")


def test_all_problems_reported_sorted_by_line_one_per_line() -> None:
    text = edit(DEFAULT, "voice: true", "voice: maybe")
    text = edit(text, "timezone: Asia/Ho_Chi_Minh", "timezone: Mars/Base")
    text = edit(text, "end: 999", 'end: "x"', after="chung-thuc")
    err = problems(text)
    assert [p.path for p in err.problems] == ["site.timezone", "services[2].numbers.end", "kiosk.voice"]
    lines = str(err).splitlines()
    assert len(lines) == 3 and all("(line " in x for x in lines)
    assert err.report().startswith("test.yaml: 3 problems found\n  site.timezone:")


def test_load_config_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read" in str(info.value) and info.value.source.endswith("nope.yaml")


def test_load_config_with_bom_and_not_utf8(tmp_path) -> None:
    ok = tmp_path / "bom.yaml"
    ok.write_bytes(b"\xef\xbb\xbf" + DEFAULT.encode("utf-8"))
    assert load_config(ok).site.id == "xa-da-huoai"
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(DEFAULT.encode("utf-8").replace("Đạ".encode(), b"\xd0a"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(bad)


def test_anchors_and_aliases_work() -> None:
    text = edit(
        DEFAULT,
        "numbers: {start: 1, end: 999, pad: 3, wrap: false}",
        "numbers: &std {start: 1, end: 999, pad: 3, wrap: false}",
    )
    text = edit(text, "numbers: {start: 1, end: 999, pad: 3, wrap: false}", "numbers: *std", after="kinh-te")
    assert parse_config(text).service("kinh-te").numbers.end == 999


def test_plain_pydantic_validation_also_checks_references() -> None:
    data = load_config(default_config_path()).model_dump(mode="json")
    data["guidance_service"] = "nope"
    with pytest.raises(ValidationError, match="guidance_service: unknown service"):
        SiteConfig.model_validate(data)


# ---- conversion details -------------------------------------------------------------------------


def test_service_hours_override_and_no_center_hours() -> None:
    text = edit(
        DEFAULT,
        "    hours: null",
        '    hours: {weekdays: [mon, wed], periods: ["08:00-10:00"]}',
        after="dat-dai",
    )
    start, end = text.index("hours:\n  enforce"), text.index("# --- Cách gọi")
    text = text[:start] + text[end:]
    site = to_site_def(parse_config(text))
    assert site.hours is None and site.enforce_hours is False
    own = site.service_hours("dat-dai")
    assert own is not None and own.weekdays == frozenset({0, 2}) and own.describe() == "08:00–10:00"
    assert site.service_hours("tu-phap") is None


def test_policy_and_counter_status_conversion() -> None:
    text = edit(DEFAULT, "policy: ratio", "policy: ageing")
    text = edit(text, "ageing_bonus_min: 15", "ageing_bonus_min: 20")
    text = edit(text, "default_service_min: 5", "default_service_min: 2.5")
    text = edit(text, '    officers: ["Đặng', '    status: paused\n    officers: ["Đặng')
    site = to_site_def(parse_config(text))
    assert site.policy.kind == "ageing" and site.policy.ageing_bonus_s == 1200
    assert site.default_service_s == 150
    assert site.counters["4"].initial_status is CounterStatus.PAUSED


def test_numbers_as_counter_ids_are_text() -> None:
    text = edit(DEFAULT, '- id: "6"', "- id: 6")
    assert parse_config(text).counters[5].id == "6"


# ---- PIN ----------------------------------------------------------------------------------------


def test_pin_hash_and_verify() -> None:
    h = hash_pin("2468", iterations=1000)
    assert is_pin_hash(h) and h.startswith("pbkdf2_sha256$1000$")
    assert verify_pin("2468", h)
    assert not verify_pin("2469", h)
    assert hash_pin("2468", iterations=1000) != h  # random salt
    for bad in ("", "pbkdf2_sha256$0$aaaaaaaa$" + "A" * 44, "md5$1$x$y", h[:-3]):
        assert not verify_pin("2468", bad)
    with pytest.raises(ValueError):
        hash_pin("12")


def test_slugify_suggests_ids() -> None:
    assert slugify("Tư pháp – Hộ tịch") == "tu-phap-ho-tich"
    assert slugify("Đạ Huoai") == "da-huoai"


@pytest.mark.parametrize(
    ("new", "path", "expect"),
    [
        ('holidays: ["2027-02-30 Tết"]', "hours.holidays[0]", "no such day"),
        ('holidays: ["05/02/2027 Tết"]', "hours.holidays[0]", 'write dates as "YYYY-MM-DD"'),
        ('holidays: ["2027-02-10..2027-02-05"]', "hours.holidays[0]", "the last day is before the first"),
        ('extra_days: ["thứ bảy"]', "hours.extra_days[0]", 'bad date "thứ bảy"'),
    ],
)
def test_bad_holidays(new: str, path: str, expect: str) -> None:
    old = new.split(":")[0] + ": []"
    text = edit(DEFAULT, old, new)
    line, msg = the_problem(text, path)
    assert line == line_of(text, new) and expect in msg


def test_holidays_from_the_file_reach_the_core() -> None:
    from datetime import date

    from qms.config.schema import OpeningHoursCfg

    text = edit(DEFAULT, "holidays: []", 'holidays: ["2027-02-05..2027-02-10 Tết Nguyên đán", 2027-09-02]')
    text = edit(text, "extra_days: []", "extra_days: [2027-02-20]")  # unquoted: YAML dates are accepted
    cfg = parse_config(text, "test.yaml")
    hours = to_site_def(cfg).hours
    assert hours.holiday(date(2027, 2, 7)).name == "Tết Nguyên đán" and hours.holiday(date(2027, 9, 2)).name == ""
    assert hours.is_open_day(date(2027, 2, 20)) and not hours.is_open_day(date(2027, 2, 10))
    cfg.service("dat-dai").hours = OpeningHoursCfg(weekdays=["mon"], periods=["07:30-11:00"])
    own = to_site_def(cfg).services["dat-dai"].hours
    assert own.weekdays == {0} and own.holiday(date(2027, 2, 8)).name == "Tết Nguyên đán"  # the center's holidays
    assert cfg.model_dump(mode="json")["hours"]["holidays"][1] == "2027-09-02"
