"""What every verb needs: the site config, the data dir, the store, the broker and printer URLs.

Options come from the command line, else the environment (``QMS_CONFIG``, ``QMS_DATA_DIR``,
``QMS_BROKER``, ``QMS_PRINTER``, ``QMS_SECRETS_DIR``), else the board's env file (the one the
systemd units read: ``$QMS_ENV_FILE``, default ``/etc/qms/qms.env``; ``QMS_ENV_FILE=`` turns it
off), else the config and platform defaults. So ``sudo -u qms qms doctor`` checks the board as its
services see it.

Broker logins: a broker URL without a user name logs in as the process's own client id, with the
password kept in ``$QMS_SECRETS_DIR/<client id>`` (mode 0600, owned by the service user). Every
process therefore has its own login and client id, and no password sits in an env file or a log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from mqtt_bus.url import parse_broker_url
from qms.broker import resolve_url
from qms.config.cache import CACHE_DIR, CoreConfig, cached_config, core_config, merged_config, plain_config
from qms.config.files import default_config_path
from qms.config.plain import Origin
from qms.envfile import read_env
from queue_core import SiteDef

if TYPE_CHECKING:  # the store is imported by the verbs that open it, not by every device's process
    from hub.clock import ClockPolicy
    from hub.store import Store
    from qms.config import SiteConfig

STORE_FILE = "queue.sqlite3"
SYSTEM_ENV_FILE = Path("/etc/qms/qms.env")
BOARD_KEYS = ("QMS_CONFIG", "QMS_DATA_DIR", "QMS_BROKER", "QMS_PRINTER", "QMS_SECRETS_DIR")


def board_env_file(env: dict[str, str] | None = None) -> Path | None:
    """The board's env file: ``$QMS_ENV_FILE`` (empty: none), else ``/etc/qms/qms.env`` if it exists."""
    env = dict(os.environ) if env is None else env
    if "QMS_ENV_FILE" in env:
        return Path(env["QMS_ENV_FILE"]) if env["QMS_ENV_FILE"] else None
    return SYSTEM_ENV_FILE if SYSTEM_ENV_FILE.exists() else None


def board_settings(env: dict[str, str] | None = None) -> dict[str, str]:
    """The ``QMS_*`` settings in force: the process environment over the board's env file."""
    env = dict(os.environ) if env is None else env
    path = board_env_file(env)
    settings: dict[str, str] = {}
    if path is not None:
        try:
            settings = {k: v for k, v in read_env(path).items() if k.startswith("QMS_")}
        except PermissionError:
            raise ValueError(f"cannot read the board settings {path}: run as the service user "
                             f"(sudo -u qms qms ...) or as root") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"cannot read the board settings {path} ({exc}); fix the file or point "
                             f"QMS_ENV_FILE at the right one") from None
    settings.update({k: v for k, v in env.items() if k in BOARD_KEYS and v})
    return settings


def default_data_dir() -> Path:
    """The per-user data dir (``/var/lib/qms`` is set by the system services)."""
    import platformdirs  # here: a service's data dir is always set, its process need not load this

    return platformdirs.user_data_path("qms", appauthor=False)


def clock_policy(clock: tuple[int, int, int]) -> ClockPolicy:
    """The config's ``clock`` section (``max_step_s``, ``max_back_s``, ``max_gap_days``) as the store's
    tolerances."""
    from hub.clock import ClockPolicy

    max_step_s, max_back_s, max_gap_days = clock
    return ClockPolicy(timedelta(seconds=max_step_s), timedelta(seconds=max_back_s), timedelta(days=max_gap_days))


@dataclass
class AppContext:
    """Resolved options of one ``qms`` invocation."""

    config_path: Path
    data_dir: Path
    broker_option: str | None = None
    printer_option: str | None = None
    secrets_dir: Path | None = None
    overrides: dict[str, object] = field(default_factory=dict)

    @classmethod
    def resolve(cls, config: str | None = None, data_dir: str | None = None, broker: str | None = None,
                printer: str | None = None) -> AppContext:
        """Flags first, then environment variables, then the board's env file, then defaults."""
        env = board_settings()
        secrets = env.get("QMS_SECRETS_DIR")
        return cls(
            config_path=Path(config or env.get("QMS_CONFIG") or default_config_path()),
            data_dir=Path(data_dir or env.get("QMS_DATA_DIR") or default_data_dir()),
            broker_option=broker or env.get("QMS_BROKER") or None,
            printer_option=printer or env.get("QMS_PRINTER") or None,
            secrets_dir=Path(secrets) if secrets else None,
        )

    @property
    def cache_dir(self) -> Path:
        """Where the validated config is cached (:mod:`qms.config.cache`)."""
        return self.data_dir / CACHE_DIR

    @cached_property
    def config(self) -> SiteConfig:
        """The validated site config (raises ``ConfigError``)."""
        return cached_config(self.config_path, self.cache_dir)

    @cached_property
    def _plain(self) -> tuple[SiteConfig, str]:
        return plain_config(self.config_path, self.cache_dir)

    @property
    def plain_config(self) -> SiteConfig:
        """The site config as the devices read it: its read-only plain copy (:mod:`qms.config.plain`),
        without pydantic or YAML on a warm start (raises ``ConfigError``)."""
        return self._plain[0]

    @property
    def config_sha256(self) -> str:
        """The version of the config file :attr:`plain_config` was read from (its bytes' sha-256, as the
        hub's catalogue names it)."""
        return self._plain[1]

    @property
    def config_origin(self) -> Origin:
        """Where :attr:`plain_config` came from, for a device that follows the hub's catalogue
        (``ui_kit.live_config``)."""
        sha = self.config_sha256
        return Origin(sha, lambda payload: merged_config(self.config_path, self.cache_dir, sha, payload,
                                                         lambda: self.config))

    @cached_property
    def core_config(self) -> CoreConfig:
        """What the store needs from the config, without pydantic or YAML on a warm start (raises
        ``ConfigError``)."""
        if "config" in self.__dict__:  # already validated in this process
            return CoreConfig.of(self.config)
        if "_plain" in self.__dict__:  # a device: its plain copy is read already (no second read of the cache)
            return CoreConfig.of(self.plain_config)
        return core_config(self.config_path, self.cache_dir)

    @cached_property
    def site(self) -> SiteDef:
        """The queue core's view of the config."""
        site = self.core_config.site
        if self.overrides.get("ignore_hours"):
            site = replace(site, enforce_hours=False)
        return site

    @property
    def broker_url(self) -> str:
        """``embedded`` or ``mqtt://...``."""
        return self.broker_option or str(self.plain_config.broker)

    def login_url(self, client_id: str) -> str:
        """The URL ``client_id`` connects with: the embedded broker resolved, its own login filled in.

        A URL that names a user is used as it is; otherwise the user is ``client_id`` and the
        password is read from ``<secrets dir>/<client_id>`` when that file exists.
        """
        url = resolve_url(self.broker_url, self.data_dir)
        address = parse_broker_url(url)
        if address.username is not None or self.secrets_dir is None:
            return url
        secret = self.secrets_dir / client_id
        try:
            password = secret.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return url
        except PermissionError:
            raise ValueError(f"cannot read the broker login {secret}: run as the service user "
                             f"(sudo -u qms ...)") from None
        return replace(address, username=client_id, password=password).url(hide_password=False)

    @property
    def printer_url(self) -> str:
        """This device's printer URL."""
        return self.printer_option or str(self.plain_config.printer.url)

    @property
    def store_path(self) -> Path:
        """The store file inside the data dir."""
        return self.data_dir / STORE_FILE

    def open_store(self) -> Store:
        """Open (and create or migrate) the store, judging the board's clock (hub/clock.py); raises
        ``StoreFault`` for a missing, damaged or foreign one."""
        from hub.clock import ClockGuard
        from hub.store import Store
        from hub.store_guard import open_checked

        return open_checked(self.store_path, self.data_dir, self.site.site,
                            lambda: Store(self.store_path, self.site, guard=ClockGuard(clock_policy(self.core_config.clock))))
