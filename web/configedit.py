"""Edit the site config through forms: YAML round-trip (comments kept), validated by ``SiteConfig``.

A form is a list of :class:`Field` s at a location in the YAML tree. :func:`apply` writes the submitted
values into a copy of the document, dumps it and validates the text with :func:`qms.config.parse_config`,
the same code as ``qms config check``; each problem is shown next to the field whose key path it names,
the rest above the form. Nothing is saved unless the whole file is valid.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted

from qms.config import ConfigError, Problem, parse_config, parse_document, yaml_rt
from qms.config.errors import Loc, format_path

KINDS = ("str", "int", "optint", "num", "bool", "select", "checks", "lines", "csv", "text", "textlines")


@dataclass(frozen=True)
class Field:
    """One input of a form: ``path`` is relative to the form's location in the YAML tree."""

    key: str
    path: Loc
    label: str
    kind: str = "str"
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    new_only: bool = False  # only asked when adding (ids)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind


@dataclass
class Outcome:
    """The result of :func:`apply`: the new text when valid, else the problems by field key."""

    text: str | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    changed: bool = True

    @property
    def ok(self) -> bool:
        """True when the new text is valid (and may be saved)."""
        return self.text is not None


# ---- reading ----------------------------------------------------------------------------------------


def load(text: str) -> CommentedMap:
    """The round-trip document of ``text`` (ConfigError for a syntax error)."""
    return parse_document(text)


def dump(doc: CommentedMap) -> str:
    """The document as YAML text, comments and layout kept."""
    out = io.StringIO()
    yaml_rt().dump(doc, out)
    return out.getvalue()


def get_at(node: Any, loc: Loc, default: Any = None) -> Any:
    """``node[loc[0]][loc[1]]...`` or ``default`` when any part is absent."""
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def _text_parts(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return str(value.get("vi") or ""), str(value.get("en") or "")
    return ("" if value is None else str(value)), ""


def _lines_of(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def form_values(doc: CommentedMap, loc: Loc | None, fields: Sequence[Field]) -> dict[str, Any]:
    """The current values of ``fields`` (empty ones when adding: ``loc`` None), as the form shows them."""
    out: dict[str, Any] = {}
    for f in fields:
        value = get_at(doc, (*loc, *f.path)) if loc is not None else None
        if f.kind == "text":
            out[f.key + "_vi"], out[f.key + "_en"] = _text_parts(value)
        elif f.kind == "textlines":
            if isinstance(value, Mapping):
                out[f.key + "_vi"], out[f.key + "_en"] = _lines_of(value.get("vi")), _lines_of(value.get("en"))
            else:
                out[f.key + "_vi"], out[f.key + "_en"] = _lines_of(value), ""
        elif f.kind == "checks":
            out[f.key] = [str(v) for v in value] if isinstance(value, Sequence) and not isinstance(value, str) else []
        elif f.kind == "csv":
            out[f.key] = ", ".join(str(v) for v in value) if isinstance(value, Sequence) and not isinstance(value, str) \
                else ("" if value is None else str(value))
        elif f.kind == "lines":
            out[f.key] = _lines_of(value)
        elif f.kind == "bool":
            out[f.key] = bool(value)
        else:
            out[f.key] = "" if value is None else str(value)
    return out


# ---- writing ----------------------------------------------------------------------------------------


def _number(raw: str, kind: str) -> Any:
    """A number from a form; text that is not one stays text, so the model's message names it."""
    raw = raw.strip()
    if raw == "" and kind == "optint":
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    if kind == "num":
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            pass
    return raw


def _flow(items: Mapping[str, Any]) -> CommentedMap:
    m = CommentedMap(items)
    m.fa.set_flow_style()
    return m


def _flow_seq(items: Sequence[Any]) -> CommentedSeq:
    s = CommentedSeq(items)
    s.fa.set_flow_style()
    return s


def _block_seq(items: Sequence[Any]) -> CommentedSeq:
    return CommentedSeq(items)


def _split_lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.replace("\r", "").split("\n") if line.strip()]


def _value(f: Field, form: Mapping[str, Any], old: Any) -> tuple[bool, Any]:
    """(present, new value) of ``f`` from the submitted ``form``; present False: delete the key."""
    get = form.get
    if f.kind == "text":
        vi, en = str(get(f.key + "_vi", "")).strip(), str(get(f.key + "_en", "")).strip()
        if not vi and not en:
            return False, None
        vi, en = Quoted(vi), Quoted(en)  # as the file's authors write texts
        if isinstance(old, CommentedMap):  # keep its comments and style
            old["vi"] = vi
            if en:
                old["en"] = en
            elif "en" in old:
                del old["en"]
            return True, old
        return True, _flow({"vi": vi, "en": en}) if en else vi
    if f.kind == "textlines":
        vi = [Quoted(x) for x in _split_lines(str(get(f.key + "_vi", "")))]
        en = [Quoted(x) for x in _split_lines(str(get(f.key + "_en", "")))]
        if not vi and not en:
            return False, None
        value = CommentedMap({"vi": _block_seq(vi)})
        if en:
            value["en"] = _block_seq(en)
        return True, value
    if f.kind == "bool":
        return True, str(get(f.key, "")).lower() in ("1", "on", "true", "yes")
    if f.kind == "checks":
        chosen = form.getlist(f.key) if hasattr(form, "getlist") else list(get(f.key) or [])
        return True, _flow_seq([o for o, _ in f.options if o in chosen])
    if f.kind == "csv":
        parts = [p.strip() for p in str(get(f.key, "")).replace(";", ",").replace("\n", ",").split(",")]
        return True, _flow_seq([p for p in parts if p])
    if f.kind == "lines":
        lines = [Quoted(x) for x in _split_lines(str(get(f.key, "")))]
        return True, (_flow_seq(lines) if all(len(x) < 20 for x in lines) else _block_seq(lines))
    raw = str(get(f.key, ""))
    if f.kind == "num" and not raw.strip():  # an empty time: the key goes, the model's default (or fallback) applies
        return False, None
    if f.kind in ("int", "optint", "num"):
        return True, _number(raw, f.kind)
    if f.kind == "str" and not raw.strip():
        return False, None
    return True, raw.strip()


def set_at(doc: Any, loc: Loc, present: bool, value: Any) -> None:
    """Set (or delete, ``present`` False) the key at ``loc``, creating missing mappings on the way."""
    node = doc
    for part in loc[:-1]:
        child = get_at(node, (part,))
        if not isinstance(child, dict | list):
            if not present:
                return
            child = CommentedMap()
            node[part] = child
        node = child
    last = loc[-1]
    if present:
        node[last] = value
    elif isinstance(node, dict) and last in node:
        del node[last]


def write_fields(doc: CommentedMap, loc: Loc, fields: Sequence[Field], form: Mapping[str, Any],
                 adding: bool = False) -> None:
    """Write the submitted values of ``fields`` into ``doc`` at ``loc``."""
    for f in fields:
        if (f.new_only and not adding) or not f.path:  # path (): read by the page, not written
            continue
        names = (f.key + "_vi", f.key + "_en") if f.kind in ("text", "textlines") else (f.key,)
        if f.kind not in ("bool", "checks") and not any(n in form for n in names):
            continue  # not sent at all (unlike an emptied box): left as it is
        present, value = _value(f, form, get_at(doc, (*loc, *f.path)))
        set_at(doc, (*loc, *f.path), present, value)


# ---- validating -------------------------------------------------------------------------------------


def _belongs(problem_path: str, field_path: str) -> bool:
    return problem_path == field_path or problem_path.startswith((field_path + ".", field_path + "["))


def sort_problems(problems: Sequence[Problem], loc: Loc | None, fields: Sequence[Field]) -> Outcome:
    """Problems by field key (those of ``fields`` at ``loc``), the rest as general messages."""
    out = Outcome(None)
    for p in problems:
        key = None
        if loc is not None:
            for f in sorted(fields, key=lambda f: -len(f.path)):
                if _belongs(p.path, format_path((*loc, *f.path))):
                    key = f.key
                    break
        if key:
            out.errors.setdefault(key, []).append(p.message)
        else:
            out.general.append(str(p))
    return out


def validate(text: str, loc: Loc | None = None, fields: Sequence[Field] = ()) -> Outcome:
    """Validate ``text`` as ``qms config check`` does; problems sorted to ``fields`` at ``loc``."""
    try:
        parse_config(text, "config")
    except ConfigError as err:
        return sort_problems(err.problems, loc, fields)
    return Outcome(text)


def apply(old_text: str, loc: Loc, fields: Sequence[Field], form: Mapping[str, Any],
          prepare: Any = None) -> Outcome:
    """Write ``form`` into the document of ``old_text`` at ``loc`` and validate the result.

    ``prepare(doc) -> loc`` may first change the document (append a new item) and return the location.
    """
    doc = load(old_text)
    adding = prepare is not None
    if adding:
        loc = prepare(doc)
    write_fields(doc, loc, fields, form, adding=adding)
    outcome = validate(dump(doc), loc, fields)
    if outcome.ok:
        outcome.changed = outcome.text != old_text
    return outcome


def remove(old_text: str, list_loc: Loc, index: int) -> Outcome:
    """Delete item ``index`` of the list at ``list_loc`` and validate the result."""
    doc = load(old_text)
    seq = get_at(doc, list_loc)
    if not isinstance(seq, list) or not 0 <= index < len(seq):
        return Outcome(None, general=["không tìm thấy mục này / this item no longer exists"])
    if index == len(seq) - 1:  # the list's closing lines (blank lines, next heading) stay in the file
        if index >= 1:
            _move_tail(seq[index], seq[index - 1])
        elif isinstance(parent := get_at(doc, list_loc[:-1]), CommentedMap) and (token := _detach_tail(seq[index])):
            parent[list_loc[-1]] = _flow_seq([])  # "key: []", then the closing lines
            _attach_tail(parent, list_loc[-1], 2, token)
            return validate(dump(doc))
    del seq[index]
    return validate(dump(doc))


# ---- layout of a new item ---------------------------------------------------------------------------


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and len(node) > 0 and not node.fa.flow_style()


def _tail(node: Any) -> tuple[Any, Any, int]:
    """(container, key, slot) of the comment after the last line of ``node`` (a block map or sequence)."""
    while True:
        if isinstance(node, CommentedMap):
            key, slot = list(node.keys())[-1], 2
        else:
            key, slot = len(node) - 1, 0
        if not _is_block(node[key]):
            return node, key, slot
        node = node[key]


def _detach_tail(source: Any) -> Any:
    """Take the blank lines and comments after the last line of ``source`` (a block map or sequence) off it,
    leaving an end-of-line comment of that line in place; the token to re-attach, or None."""
    if not _is_block(source):
        return None
    node, key, slot = _tail(source)
    entry = node.ca.items.get(key)
    token = entry[slot] if entry and len(entry) > slot else None
    value = getattr(token, "value", None)
    if not isinstance(value, str) or "\n" not in value:
        return None
    cut = 0 if value.startswith("\n") else value.index("\n") + 1  # keep "  # comment\n" on its own line
    if not value[cut:]:
        return None
    moved = copy.copy(token)
    moved.value = ("\n" if cut else "") + value[cut:]  # the first newline ends the last line
    if cut:
        token.value = value[:cut]
    else:
        entry[slot] = None
    return moved


def _attach_tail(node: Any, key: Any, slot: int, token: Any) -> None:
    entry = node.ca.items.setdefault(key, [None, None, None, None])
    kept = getattr(entry[slot], "value", "")
    if isinstance(kept, str) and kept and not kept.startswith("\n"):  # its own end-of-line comment
        token.value = kept + token.value[1:]  # whose newline already ends the line
    entry[slot] = token


def _move_tail(source: Any, target: Any) -> None:
    """Move what follows the last line of ``source`` (blank lines, the next heading) to after ``target``."""
    if not _is_block(target):
        return
    token = _detach_tail(source)
    if token is not None:
        _attach_tail(*_tail(target), token)


def keep_blank_line_last(doc: CommentedMap, loc: Loc) -> None:
    """After appending the item at ``loc``: the blank lines and comments that closed the list (after the old
    last item, e.g. the next section's heading) move to the end of the new one. So the file still reads as a
    person laid it out."""
    seq = get_at(doc, loc[:-1])
    index = loc[-1]
    if not (isinstance(seq, CommentedSeq) and isinstance(index, int) and index == len(seq) - 1):
        return
    if index >= 1:
        _move_tail(seq[index - 1], seq[index])
        return
    parent, key = get_at(doc, loc[:-2]), loc[-2]  # the first item of a list that was "key: []"
    entry = parent.ca.items.get(key) if isinstance(parent, CommentedMap) else None
    token = entry[2] if entry and len(entry) > 2 else None
    value = getattr(token, "value", None)
    if _is_block(seq[index]) and isinstance(value, str) and value.startswith("\n"):
        entry[2] = None
        _attach_tail(*_tail(seq[index]), token)
