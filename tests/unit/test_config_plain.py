"""The config's plain copy (qms/config/plain.py): what the devices read, without pydantic (issue 15: kiosk
memory). It must read exactly as the validated config does, come back from the cache, and make the live
config validate only a catalogue that is not the device's own file's."""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.menu import kiosk_view, priority_items, procedure_items, service_items
from qms.catalogue import catalogue_of, config_version
from qms.config import default_config_path, load_config, to_site_def
from qms.config.cache import merged_config, plain_config
from qms.config.plain import Origin, Plain, plain_copy
from qms.digest import sha256_hex
from queue_display.settings import DisplaySettings
from ui_kit.live_config import LiveConfig
from ui_kit.site_view import SiteView

ROOT = Path(__file__).resolve().parents[2]
COMMUNE = default_config_path()
CONFIG = load_config(COMMUNE)
LANGS = ("vi", "en", "kho")


def leaves(value: Any) -> list[Any]:
    """Every value in a plain copy that is not a container or a section."""
    if isinstance(value, Plain):
        return [leaf for v in vars(value).values() for leaf in leaves(v)]
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    return [value]


def test_the_copy_holds_only_plain_values_and_reads_as_the_config():
    plain = plain_copy(CONFIG)
    assert {type(v) for v in leaves(plain)} <= {str, int, float, bool, type(None), time, date}
    assert plain.site.name.text("en") == CONFIG.site.name.text("en") and str(plain.site.name) == str(CONFIG.site.name)
    assert plain.default_language == CONFIG.default_language
    assert plain.service("tu-phap").procedures[0].name.root == CONFIG.service("tu-phap").procedures[0].name.root
    assert [c.id for c in plain.counters_for_service("chung-thuc")] == ["2", "3"]
    assert plain.procedure("ket-hon")[0].id == "tu-phap" and plain.priority("elderly").icon == CONFIG.priority("elderly").icon
    with pytest.raises(KeyError):
        plain.counter("99")
    assert plain.hours.periods == CONFIG.hours.periods and plain.hours.holidays == CONFIG.hours.holidays
    assert to_site_def(plain) == to_site_def(CONFIG)  # the core's site, from either


def test_the_screens_view_is_the_same_from_either():
    a, b = SiteView(CONFIG), SiteView(plain_copy(CONFIG))
    for lang in LANGS:
        assert a.center_name(lang) == b.center_name(lang)
        for sid in a.service_ids:
            assert (a.service_name(sid, lang), a.hours_text(sid), a.counter_names(sid, lang), a.ticket_number(sid, 7)) \
                == (b.service_name(sid, lang), b.hours_text(sid), b.counter_names(sid, lang), b.ticket_number(sid, 7))
            for proc in CONFIG.service(sid).procedures:
                assert (a.documents(proc.id, lang), a.portal_url(proc.id)) == (b.documents(proc.id, lang), b.portal_url(proc.id))
        assert service_items(kiosk_view(CONFIG), lang) == service_items(kiosk_view(plain_copy(CONFIG)), lang)
        assert priority_items(kiosk_view(CONFIG), lang) == priority_items(kiosk_view(plain_copy(CONFIG)), lang)
        a_items, b_items = procedure_items(kiosk_view(CONFIG), "tu-phap", lang), procedure_items(kiosk_view(plain_copy(CONFIG)), "tu-phap", lang)
        assert a_items == b_items
    left, right = DisplaySettings.from_config(CONFIG), DisplaySettings.from_config(plain_copy(CONFIG))
    assert {k: v for k, v in vars(left).items() if k != "site"} == {k: v for k, v in vars(right).items() if k != "site"}


def test_the_copy_is_read_only_comparable_and_pickles():
    plain = plain_copy(CONFIG)
    with pytest.raises(AttributeError, match="read-only"):
        plain.site.id = "other"  # type: ignore[misc]
    assert plain == plain_copy(load_config(COMMUNE)) and plain_copy(plain) is plain
    assert pickle.loads(pickle.dumps(plain)) == plain
    renamed = CONFIG.model_copy(update={"guidance_service": None})
    assert plain_copy(renamed) != plain


def test_the_cache_gives_the_copy_and_the_files_version_without_pydantic(tmp_path):
    config = tmp_path / "site.yaml"
    config.write_bytes(COMMUNE.read_bytes())
    plain, sha = plain_config(config, tmp_path / "cache")  # a miss: validated, cached
    assert plain == plain_copy(CONFIG) and sha == config_version(COMMUNE.read_bytes())
    code = ("import sys; from pathlib import Path; from qms.config.cache import plain_config; "
            f"p, sha = plain_config(Path({str(config)!r}), Path({str(tmp_path / 'cache')!r})); "
            "print(p.service('tu-phap').name.text('en'), sha[:8], "
            "sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'ruamel', 'hashlib', 'yaml'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Justice", "–", "Civil", "status", sha[:8], "[]"]


@given(st.binary(max_size=3000))
def test_the_digest_is_hashlibs(data):
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


class Bus:
    """Just enough of a UiBus for LiveConfig: the handler it subscribes."""

    class topics:
        config = "qms/v1/site/config"

    def subscribe(self, _topic: str, handler) -> None:
        self.deliver = handler


def origin_of(config: Path, cache: Path, validated: list[int]) -> Origin:
    """A device's origin as ``AppContext.config_origin`` makes it, counting the validations."""
    sha = config_version(config.read_bytes())

    def base():
        validated.append(1)
        return load_config(config)
    return Origin(sha, lambda payload: merged_config(config, cache, sha, payload, base))


def test_the_own_files_catalogue_validates_nothing_and_another_is_merged_once(tmp_path):
    config, cache = tmp_path / "site.yaml", tmp_path / "cache"
    config.write_bytes(COMMUNE.read_bytes())
    validated: list[int] = []
    shown: list[Any] = []
    origin = origin_of(config, cache, validated)
    bus = Bus()
    live = LiveConfig(bus, plain_copy(CONFIG), shown.append, origin=origin)  # type: ignore[arg-type]
    bus.deliver("t", catalogue_of(CONFIG, origin.sha256))
    assert validated == [] and shown == [] and live.sha256 == origin.sha256  # the hub runs this device's file
    other = catalogue_of(CONFIG.model_copy(update={"guidance_service": None}), "f" * 64)
    bus.deliver("t", other)
    assert validated == [1] and len(shown) == 1 and isinstance(shown[0], Plain)
    assert shown[0].guidance_service is None and live.applied == 1
    bus.deliver("t", catalogue_of(CONFIG, origin.sha256))  # back to the device's own file: its own config again
    assert validated == [1] and shown[-1] == plain_copy(CONFIG) and live.applied == 2
    # the device restarts: the hub's catalogue (still the other file) comes from the cache, not validated
    again = Bus()
    restarted = LiveConfig(again, plain_copy(CONFIG), shown.append, origin=origin)  # type: ignore[arg-type]
    again.deliver("t", dict(other, ts="later"))
    assert validated == [1] and shown[-1] == shown[0] and restarted.applied == 1
    renamed = catalogue_of(CONFIG.model_copy(update={"guidance_service": "tu-phap"}), "e" * 64)
    again.deliver("t", renamed)  # yet another catalogue: merged (validated) again
    assert validated == [1, 1] and shown[-1].guidance_service == "tu-phap"
    assert origin.merge({"sha256": "x"}) is None and origin.merge({"catalogue": {"site": float("nan")}}) is None
    assert validated == [1, 1]  # neither is a catalogue: nothing validated
    with pytest.raises(TypeError, match="origin"):
        LiveConfig(Bus(), plain_copy(CONFIG), shown.append)  # type: ignore[arg-type]


def test_a_merged_catalogue_comes_back_without_pydantic(tmp_path):
    config, cache = tmp_path / "site.yaml", tmp_path / "cache"
    config.write_bytes(COMMUNE.read_bytes())
    payload = catalogue_of(CONFIG.model_copy(update={"guidance_service": None}), "f" * 64)
    (tmp_path / "payload.json").write_text(json.dumps(payload), encoding="utf-8")
    validated: list[int] = []
    first = origin_of(config, cache, validated).merge(payload)
    assert validated == [1] and first is not None and first.guidance_service is None
    code = ("import json, sys; from pathlib import Path; from qms.config.cache import merged_config; "
            f"t = Path({str(tmp_path)!r}); payload = json.loads((t / 'payload.json').read_text()); "
            f"m = merged_config(t / 'site.yaml', t / 'cache', {origin_of(config, cache, []).sha256!r}, payload, "
            "lambda: sys.exit('validated')); "
            "print(m.guidance_service, sorted({n.split('.')[0] for n in sys.modules} & {'pydantic', 'ruamel'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "[]"]
