"""What every verb needs: the site config, the data dir, the store, the broker and printer URLs.

Options come from the command line, else the environment (``QMS_CONFIG``, ``QMS_DATA_DIR``,
``QMS_BROKER``, ``QMS_PRINTER``), else the config and platform defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import platformdirs

from hub.store import Store
from hub.store_guard import open_checked
from qms.config import SiteConfig, default_config_path, load_config, to_site_def
from queue_core import SiteDef

STORE_FILE = "queue.sqlite3"


def default_data_dir() -> Path:
    """The per-user data dir (``/var/lib/qms`` is set by the system services)."""
    return platformdirs.user_data_path("qms", appauthor=False)


@dataclass
class AppContext:
    """Resolved options of one ``qms`` invocation."""

    config_path: Path
    data_dir: Path
    broker_option: str | None = None
    printer_option: str | None = None
    overrides: dict[str, object] = field(default_factory=dict)

    @classmethod
    def resolve(cls, config: str | None = None, data_dir: str | None = None, broker: str | None = None,
                printer: str | None = None) -> AppContext:
        """Flags first, then environment variables, then defaults."""
        env = os.environ
        return cls(
            config_path=Path(config or env.get("QMS_CONFIG") or default_config_path()),
            data_dir=Path(data_dir or env.get("QMS_DATA_DIR") or default_data_dir()),
            broker_option=broker or env.get("QMS_BROKER") or None,
            printer_option=printer or env.get("QMS_PRINTER") or None,
        )

    @cached_property
    def config(self) -> SiteConfig:
        """The validated site config (raises ``ConfigError``)."""
        return load_config(self.config_path)

    @cached_property
    def site(self) -> SiteDef:
        """The queue core's view of the config."""
        site = to_site_def(self.config)
        if self.overrides.get("ignore_hours"):
            site = replace(site, enforce_hours=False)
        return site

    @property
    def broker_url(self) -> str:
        """``embedded`` or ``mqtt://...``."""
        return self.broker_option or str(self.config.broker)

    @property
    def printer_url(self) -> str:
        """This device's printer URL."""
        return self.printer_option or str(self.config.printer.url)

    @property
    def store_path(self) -> Path:
        """The store file inside the data dir."""
        return self.data_dir / STORE_FILE

    def open_store(self) -> Store:
        """Open (and create or migrate) the store; raises ``StoreFault`` for a missing, damaged or foreign one."""
        return open_checked(self.store_path, self.data_dir, self.site.site, lambda: Store(self.store_path, self.site))
