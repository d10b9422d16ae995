"""The site config: one YAML file per center, validated into a :class:`SiteConfig`.

>>> cfg = load_config(default_config_path())
>>> site = to_site_def(cfg)          # what queue_core needs

The admin PIN helpers are in :mod:`qms.config.pin` (``python -m qms.config.pin PIN``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from queue_core.lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import ConfigError, Problem
    from .fields import Text, TextList
    from .loader import default_config_path, load_config, parse_config, parse_document, yaml_rt
    from .schema import (
        CounterCfg,
        KioskCfg,
        PrinterCfg,
        PriorityCfg,
        ProcedureCfg,
        ServiceCfg,
        SiteConfig,
    )
    from .to_core import to_site_def

# Names are imported on first use (PEP 562), so ``from qms.config.errors import ConfigError`` or
# ``qms.config.cache`` does not load pydantic and ruamel (issue 15: start-up of ``qms ticket issue``).
_WHERE = {
    "ConfigError": "errors", "Problem": "errors", "Text": "fields", "TextList": "fields",
    "default_config_path": "loader", "load_config": "loader", "parse_config": "loader",
    "parse_document": "loader", "yaml_rt": "loader", "CounterCfg": "schema", "KioskCfg": "schema",
    "PrinterCfg": "schema", "PriorityCfg": "schema", "ProcedureCfg": "schema", "ServiceCfg": "schema",
    "SiteConfig": "schema", "to_site_def": "to_core",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "ConfigError",
    "CounterCfg",
    "KioskCfg",
    "PrinterCfg",
    "PriorityCfg",
    "Problem",
    "ProcedureCfg",
    "ServiceCfg",
    "SiteConfig",
    "Text",
    "TextList",
    "default_config_path",
    "load_config",
    "parse_config",
    "parse_document",
    "to_site_def",
    "yaml_rt",
]
