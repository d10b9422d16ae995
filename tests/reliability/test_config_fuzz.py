"""Fuzz the config loader: whatever a technician types, only ConfigError comes out.

Mutates the default config (delete keys, change scalar types, duplicate items, random text edits)
and checks that loading either raises ConfigError with well-formed problems, or gives a config
that converts to a consistent SiteDef and round-trips. ``QMS_CONFIG_FUZZ_EXAMPLES`` sets the number of
examples per test (default 200; about 0.1 s each, so it is not tied to the hub fuzz's ``QMS_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import copy
import io
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from qms.config import ConfigError, SiteConfig, default_config_path, parse_config, to_site_def

EXAMPLES = int(os.environ.get("QMS_CONFIG_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("CI") == "true",
)
pytestmark = pytest.mark.timeout(max(300, EXAMPLES // 2))  # about 0.1 s per example

LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
DEFAULT_TEXT = default_config_path().read_text(encoding="utf-8")
DEFAULT_DATA: Any = YAML(typ="safe").load(DEFAULT_TEXT)

SPECIAL = [
    "",
    " ",
    "A",
    "a",
    "Z",
    "AB",
    "normal",
    "tu-phap",
    "huong-dan",
    "1",
    "07:30-11:30",
    "7h30",
    "embedded",
    "mqtt://",
    "virtual://",
    "Asia/Hanoi",
    "vi",
    "en",
    "null",
    "true",
    "~",
    "{",
    "[",
    "*x",
    "&x",
    "#",
    ": ",
    "pbkdf2_sha256$1$aaaaaaaa$" + "A" * 44,
    "Quầy số 1",
    "\u0000",
    "\t",
    "-",
    "é" * 50,
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(SPECIAL),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["vi", "en", "id", "x", "start", "end", ""]), SCALARS, max_size=3),
)


def all_locs(node: Any, loc: tuple = ()) -> list[tuple]:
    """Every key path in a plain YAML tree (the root excluded)."""
    out: list[tuple] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in items:
        out.append((*loc, k))
        out.extend(all_locs(v, (*loc, k)))
    return out


def get(node: Any, loc: tuple) -> Any:
    for k in loc:
        node = node[k]
    return node


@st.composite
def mutated_trees(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(DEFAULT_DATA)
    for _ in range(draw(st.integers(1, 4))):
        locs = all_locs(data)
        if not locs:
            break
        loc = draw(st.sampled_from(locs))
        parent, key = get(data, loc[:-1]), loc[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "add_key", "duplicate"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(VALUES)
        elif op == "add_key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    return data


def dump(data: Any) -> str:
    y = YAML(typ="safe")
    y.allow_unicode = True
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def check(text: str) -> None:
    """Only ConfigError may escape; a valid config must convert and round-trip."""
    n_lines = (
        len(LINE_BREAK.split(text)) + 1
    )  # YAML's line breaks; an end-of-file error may point past the end
    try:
        cfg = parse_config(text, "fuzz.yaml")
    except ConfigError as e:
        assert e.problems
        for p in e.problems:
            assert isinstance(p.path, str) and p.path
            assert isinstance(p.message, str) and p.message
            assert p.line is None or 1 <= p.line <= n_lines, (p, n_lines)
        assert len(str(e).split("\n")) == len(e.problems)  # one line per problem
        return
    site = to_site_def(cfg)
    assert list(site.services) == [s.id for s in cfg.services]
    assert len({s.prefix for s in site.services.values()}) == len(site.services)
    for c in site.counters.values():
        assert c.services and set(c.services) <= set(site.services)
    for s in site.services.values():
        assert s.number_start <= s.number_end and len(str(s.number_end)) <= s.number_pad
    assert SiteConfig.model_validate(cfg.model_dump(mode="json")) == cfg


@pytest.mark.slow
@FUZZ
@given(mutated_trees())
def test_mutated_trees_raise_only_config_error(data: Any) -> None:
    check(dump(data))


@st.composite
def edited_texts(draw: st.DrawFn) -> str:
    lines = DEFAULT_TEXT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "insert", "swap", "duplicate", "truncate", "scribble"]))
        if op == "delete":
            del lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=30)) + "\n")
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = (
                lines[i][:pos]
                + draw(st.one_of(st.text(max_size=6), st.sampled_from(SPECIAL)))
                + lines[i][pos:]
            )
    return "".join(lines)


@pytest.mark.slow
@FUZZ
@given(edited_texts())
def test_edited_texts_raise_only_config_error(text: str) -> None:
    check(text)


@FUZZ
@given(st.text(max_size=200))
def test_random_text_raises_only_config_error(text: str) -> None:
    check(text)


def test_default_survives_check() -> None:
    check(DEFAULT_TEXT)
    check(dump(DEFAULT_DATA))
