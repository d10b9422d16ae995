"""The validated site config, cached in the data dir so that a verb's start-up skips YAML and pydantic.

Reading the config needs ruamel.yaml and pydantic: ~0.1 s of imports and ~30 ms of work on every
``qms ticket issue`` (issue 15: start-up ≤ 0.2 s). After a config has validated once, the cache file
``<data dir>/cache/config-<hash of the config's path>.pickle`` holds, for its exact bytes:

- the queue core's :class:`~queue_core.model.SiteDef` and the clock tolerances: what ``qms ticket issue``,
  ``qms counter`` and ``qms status`` need, so they import neither pydantic nor ruamel (:func:`core_config`);
- the plain data that validated, so a process that needs the whole :class:`SiteConfig` (the hub, the
  web app) validates it again with pydantic but does not parse YAML (:func:`cached_config`);
- the config's plain copy (:mod:`.plain`): what the devices (kiosk, counter pad, hall display) read, so
  they import neither pydantic nor ruamel (:func:`plain_config`);
- in ``config-<hash>.merged.pickle``, the plain copy of the last catalogue of the hub merged over it
  (:func:`merged_config`): a device on a board of its own whose file is older than the hub's merges the
  same catalogue at every start; the second time, without pydantic.

The key is a SHA-256 of the config file's bytes and of the config code (name, size and mtime of
``qms/config/*.py`` and ``queue_core/*.py``), so any edit of the file, or an upgrade, misses it.
Only a config that validated is ever written, and a miss always runs the full loader: a bad config
fails exactly as without the cache (its problems with their lines). A cache that cannot be read or
written is ignored. The file is written by the service user (mode 0600) into its own data dir, whose
store already decides every ticket: trusting its pickle adds no new power.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms.catalogue import config_version, merge_catalogue
from qms.digest import sha256_hex

if TYPE_CHECKING:
    from queue_core import SiteDef

    from .schema import SiteConfig

log = logging.getLogger(__name__)
CACHE_DIR = "cache"
FORMAT = 3  # bump when the cached record changes shape
CODE = (Path(__file__).parent, Path(__file__).resolve().parents[2] / "queue_core")  # what makes the record


@dataclass(frozen=True)
class CoreConfig:
    """What the store verbs need from the config: the core's site, the clock tolerances (s, s, days), and
    the names of its procedures and priorities (``to_core.display_names``: the reports' labels)."""

    site: SiteDef
    clock: tuple[int, int, int]
    names: dict[str, dict[str, str]]

    @classmethod
    def of(cls, config: SiteConfig) -> CoreConfig:
        """The core's part of a validated config."""
        from .to_core import display_names, to_site_def

        clock = config.clock
        return cls(to_site_def(config), (clock.max_step_s, clock.max_back_s, clock.max_gap_days),
                   display_names(config))


@dataclass(frozen=True)
class _Record:
    key: str
    data: Any  # the plain data that validated (dicts, lists, scalars)
    core: CoreConfig
    plain: SiteConfig  # its plain copy (qms.config.plain)


def code_stamp() -> str:
    """Name, size and mtime of the code that turns the file into a config and a core site (changes on any
    upgrade)."""
    parts = [f"{FORMAT} {sys.version_info[:2]}"]
    for path in (path for folder in CODE for path in sorted(folder.glob("*.py"))):
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(parts)


def cache_file(config_path: str | os.PathLike[str], cache_dir: Path) -> Path:
    """The cache file of the config at ``config_path`` (one per config file)."""
    name = sha256_hex(str(Path(config_path).resolve()).encode())[:24]
    return cache_dir / f"config-{name}.pickle"


def _key(raw: bytes) -> str:
    return sha256_hex(code_stamp().encode() + b"\0" + raw)


@dataclass(frozen=True)
class _Merged:
    key: str  # the code, the device's file and the catalogue (qms.config.cache.merged_config)
    plain: SiteConfig


def _read(file: Path, key: str, kind: type = _Record) -> Any:
    try:
        record = pickle.loads(file.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated, foreign or from another version: a miss
        log.debug("config cache %s unreadable: %s", file, exc)
        return None
    return record if isinstance(record, kind) and record.key == key else None


def _write(file: Path, record: _Record | _Merged) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=file.name, suffix=".tmp", dir=file.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                pickle.dump(record, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, file)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:  # read-only or full data dir: run without the cache
        log.debug("config cache %s not written: %s", file, exc)


def _full_load(path: str | os.PathLike[str], raw: bytes | None, file: Path,
               key: str | None) -> tuple[SiteConfig, CoreConfig, SiteConfig]:
    """The full loader (YAML with lines, pydantic); caches the result when it validated."""
    from .loader import load_config, parse_config_data

    text = None
    if raw is not None:
        with contextlib.suppress(UnicodeDecodeError):
            text = raw.decode("utf-8-sig")
    if text is None:  # unreadable or not UTF-8: load_config raises the file's problem, as without a cache
        config, data = load_config(path), None
    else:
        config, data = parse_config_data(text, str(path))
    from .plain import plain_copy

    core, plain = CoreConfig.of(config), plain_copy(config)
    if data is not None and key is not None:
        _write(file, _Record(key, data, core, plain))
    return config, core, plain


def _lookup(path: str | os.PathLike[str],
            cache_dir: Path) -> tuple[bytes | None, Path, str | None, _Record | None]:
    file = cache_file(path, cache_dir)
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None, file, None, None
    key = _key(raw)
    return raw, file, key, _read(file, key)


def core_config(path: str | os.PathLike[str], cache_dir: Path) -> CoreConfig:
    """The core's site and clock for the config at ``path``: from the cache when the file and the code
    are unchanged, else from the full loader (raises :class:`~qms.config.errors.ConfigError`)."""
    raw, file, key, record = _lookup(path, cache_dir)
    if record is not None:
        return record.core
    return _full_load(path, raw, file, key)[1]


def cached_config(path: str | os.PathLike[str], cache_dir: Path) -> SiteConfig:
    """The validated :class:`SiteConfig` at ``path``; a cache hit skips the YAML parser (pydantic still
    validates; if that ever fails, the full loader runs and reports the problems with their lines)."""
    raw, file, key, record = _lookup(path, cache_dir)
    if record is not None:
        from pydantic import ValidationError

        from .errors import format_path
        from .schema import SiteConfig

        try:
            return SiteConfig.model_validate(record.data, context={"where": format_path})
        except ValidationError:
            pass
    return _full_load(path, raw, file, key)[0]


def plain_config(path: str | os.PathLike[str], cache_dir: Path) -> tuple[SiteConfig, str]:
    """The config at ``path`` as its plain copy (:mod:`.plain`), and the sha-256 of the bytes it was read
    from (``qms.catalogue.config_version``: how a device knows the hub's catalogue is its own file's).
    From the cache when the file and the code are unchanged, else from the full loader (raises
    :class:`~qms.config.errors.ConfigError`)."""
    raw, file, key, record = _lookup(path, cache_dir)
    plain = record.plain if record is not None else _full_load(path, raw, file, key)[2]
    return plain, config_version(raw or b"")


def merged_config(path: str | os.PathLike[str], cache_dir: Path, sha256: str, payload: dict[str, Any],
                  validated: Callable[[], SiteConfig]) -> SiteConfig | None:
    """The plain copy of the config at ``path`` (whose bytes have ``sha256``) with the catalogue of the hub's
    ``config`` payload merged over it; None when the catalogue does not apply (``merge_catalogue``).

    From the cache when the last merge was of this file and this catalogue (compared as JSON, so an upgraded
    hub that sends another catalogue for the same file misses it) by the same code; else merged over
    ``validated()`` (pydantic) and kept for the next start.
    """
    catalogue = payload.get("catalogue") if isinstance(payload, dict) else None
    if not isinstance(catalogue, dict):
        return None
    try:
        text = json.dumps(catalogue, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None  # not a catalogue (the hub sends JSON)
    key = sha256_hex("\0".join((code_stamp(), sha256, text)).encode())
    file = cache_file(path, cache_dir).with_suffix(".merged.pickle")
    record = _read(file, key, _Merged)
    if record is not None:
        return record.plain
    from .plain import plain_copy

    merged = merge_catalogue(validated(), payload)
    if merged is None:
        return None
    plain = plain_copy(merged)
    _write(file, _Merged(key, plain))
    return plain
