"""Read a site config file: YAML (round-trip, so lines are known) → validated :class:`SiteConfig`.

Every problem becomes a :class:`Problem` naming the key path and the YAML line, gathered into one
:class:`ConfigError`.
"""

from __future__ import annotations

import os
import re
import types
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarbool import ScalarBoolean

from .errors import ConfigError, Loc, Problem, Problems, format_path
from .fields import Text, TextList, printable, quoted
from .files import default_config_path  # noqa: F401  (re-exported: qms.config.default_config_path)
from .schema import SiteConfig

FILE_PATH = "(file)"
"""The path shown for problems of the file as a whole (unreadable, YAML syntax)."""


def yaml_rt() -> YAML:
    """A round-trip YAML instance (keeps comments and line numbers; the setup wizard writes with it)."""
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never re-wrap a long line
    y.Representer = _Representer
    return y


class _Representer(RoundTripRepresenter):
    """Writes an empty value as ``null``, as the file's authors do."""


_Representer.add_representer(
    type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
)


def load_config(path: str | os.PathLike[str]) -> SiteConfig:
    """Read and validate the config file at ``path``; raise :class:`ConfigError` on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            [Problem(FILE_PATH, None, f"not UTF-8 text ({e.reason}); save the file as UTF-8")], name
        ) from None
    except OSError as e:
        raise ConfigError(
            [Problem(FILE_PATH, None, f"cannot read the file: {e.strerror or e}")], name
        ) from None
    return parse_config(text, name)


def parse_document(text: str, source_name: str = "<string>") -> CommentedMap:
    """Parse YAML text into a round-trip mapping, or raise :class:`ConfigError` for a syntax error."""
    try:
        doc = yaml_rt().load(text)
    except MarkedYAMLError as e:
        raise ConfigError([_syntax_problem(e)], source_name) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as e:
        what = re.sub(r"\s+", " ", printable(str(e))).strip()
        raise ConfigError([Problem(FILE_PATH, None, f"YAML syntax error: {what}")], source_name) from None
    if doc is None:
        raise ConfigError(
            [Problem(FILE_PATH, None, "the file is empty; start from config/commune.yaml")], source_name
        )
    if not isinstance(doc, CommentedMap):
        raise ConfigError(
            [
                Problem(
                    FILE_PATH,
                    1,
                    f"expected sections (site:, services:, ...) at the top, got {quoted(_plain(doc))}",
                )
            ],
            source_name,
        )
    return doc


def parse_config(text: str, source_name: str = "<string>") -> SiteConfig:
    """Validate config text; raise :class:`ConfigError` listing every problem with its line."""
    return parse_config_data(text, source_name)[0]


def parse_config_data(text: str, source_name: str = "<string>") -> tuple[SiteConfig, Any]:
    """:func:`parse_config`, also returning the plain data that was validated (what
    :mod:`qms.config.cache` keeps, so that a warm start needs no YAML parser)."""
    doc = parse_document(text, source_name)
    try:
        data = _plain(doc)
    except _Recursive:
        raise ConfigError(
            [Problem(FILE_PATH, None, "an alias (*name) refers to itself; remove the loop")], source_name
        ) from None

    def where(loc: Loc) -> str:
        line = _locate(doc, loc)
        return f"{format_path(loc)}, line {line}" if line is not None else format_path(loc)

    try:
        return SiteConfig.model_validate(data, context={"where": where}), data
    except ValidationError as e:
        raise ConfigError(_problems(e, doc), source_name) from None


# ---- YAML helpers -------------------------------------------------------------------------------


def _syntax_problem(e: MarkedYAMLError) -> Problem:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark is not None else None
    col = f", column {mark.column + 1}" if mark is not None else ""
    what = (e.problem or e.context or "unreadable YAML").strip()
    what = re.sub(r"\s+", " ", printable(what))
    dup = re.match(r'found duplicate key "(.*?)" with value', what)
    if dup:
        what = f'key "{dup.group(1)}" appears twice in the same section'
        hint = "keep only one of them"
    elif "\t" in str(e) or "tab" in what:
        hint = "indent with spaces, never tabs"
    else:
        hint = 'check the indentation (spaces only), the ":" after each key and matching quotes'
    return Problem(FILE_PATH, line, f"YAML syntax error{col}: {what}; {hint}")


class _Recursive(Exception):
    pass


def _plain(node: Any, _stack: frozenset[int] = frozenset()) -> Any:
    """Round-trip YAML objects → plain dict/list/str/int/float/bool/None for pydantic."""
    if isinstance(node, dict | list | tuple):
        if id(node) in _stack:
            raise _Recursive
        inner = _stack | {id(node)}
        if isinstance(node, dict):
            return {_key(k): _plain(v, inner) for k, v in node.items()}
        return [_plain(v, inner) for v in node]
    if isinstance(node, TaggedScalar):  # an unknown "!tag value": keep the value
        return None if node.value is None else str(node.value)
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _key(key: Any) -> Any:
    return key if isinstance(key, str | int | float | bool) or key is None else str(key)


def _child(node: Any, part: str | int) -> tuple[int | None, Any] | None:
    """(1-based line, child) of ``node[part]`` in the YAML tree, or None when absent."""
    try:
        if isinstance(node, CommentedMap) and part in node:
            try:
                line = node.lc.key(part)[0]
            except (KeyError, TypeError, AttributeError):
                line = node.lc.line
            return (line + 1 if line is not None else None), node[part]
        if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            try:
                line = node.lc.item(part)[0]
            except (KeyError, TypeError, AttributeError, IndexError):
                line = node.lc.line
            return (line + 1 if line is not None else None), node[part]
    except TypeError:  # unhashable part
        return None
    return None


def _locate(doc: CommentedMap, loc: Loc) -> int | None:
    """The line of the deepest part of ``loc`` present in the file (None: top level)."""
    node: Any = doc
    line: int | None = None
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        line = found[0] if found[0] is not None else line
        node = found[1]
    return line


# ---- pydantic errors → problems -----------------------------------------------------------------


def _problems(exc: ValidationError, doc: CommentedMap) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("[")))
        cause = (err.get("ctx") or {}).get("error")
        items = cause.items if isinstance(cause, Problems) else [((), _message(err, loc))]
        for rel, msg in items:
            full = (*loc, *rel)
            problem = Problem(format_path(full), _locate(doc, full), msg)
            if problem not in out:
                out.append(problem)
    return sorted(out, key=lambda p: (p.line is None, p.line or 0))


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            tp = next(a for a in get_args(tp) if a is not type(None))
        else:
            return tp


def _type_at(loc: Loc) -> Any:
    """The declared type at ``loc`` (None when the path leaves the schema)."""
    tp: Any = SiteConfig
    for part in loc:
        tp = _unwrap(tp)
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = tp.model_fields.get(part)
            if field is None:
                return None
            tp = field.annotation
        elif origin is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def _description(loc: Loc) -> str | None:
    parent = _type_at(loc[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel) and isinstance(loc[-1], str):
        field = parent.model_fields.get(loc[-1])
        return field.description if field else None
    return None


def _literal_options(expected: str) -> list[str]:
    return [a or b for a, b in re.findall(r"'([^']*)'|(-?\d+)", expected)]


_KIND = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": 'a list (lines starting with "- ", or [a, b])',
    "dict": "a mapping (key: value lines)",
    "model": "a mapping (key: value lines)",
}


def _message(err: Any, loc: Loc) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    got = quoted(value)
    if kind == "qms":
        return str(ctx["msg"])
    if kind == "missing":
        desc = _description(loc)
        return (
            f"missing required key {quoted(loc[-1])}"
            + (f" ({desc.rstrip('.')})" if desc else "")
            + "; add it"
        )
    if kind == "extra_forbidden":
        parent = _type_at(loc[:-1])
        valid = (
            list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        )
        close = get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = f'did you mean "{close[0]}"?' if close else "valid keys here: " + ", ".join(valid)
        return f"unknown key {quoted(str(loc[-1]))}; {hint}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        options = _literal_options(str(ctx.get("expected", "")))
        close = get_close_matches(str(value), options, n=1, cutoff=0.5)
        hint = f'; did you mean "{close[0]}"?' if close and isinstance(value, str) else ""
        return f"expected one of: {', '.join(options)}; got {got}{hint}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {got}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "too_long":
        return f"has too many items (at most {ctx.get('max_length')})"
    target = _type_at(loc)
    if (
        isinstance(target, type)
        and issubclass(target, Text | TextList)
        and kind in ("dict_type", "model_type")
    ):
        return f'expected a text, e.g. "Quầy số 1" or {{vi: "Quầy số 1", en: "Counter 1"}}; got {got}'
    base = kind.split("_", 1)[0]
    if base in _KIND and (
        kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "model_attributes_type")
    ):
        return f"expected {_KIND[base]}, got {got}"
    return f"{err['msg']} (got {got})"
