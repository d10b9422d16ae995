"""The site config: one YAML file per center, validated into a :class:`SiteConfig`.

>>> cfg = load_config(default_config_path())
>>> site = to_site_def(cfg)          # what queue_core needs

The admin PIN helpers are in :mod:`qms.config.pin` (``python -m qms.config.pin PIN``).
"""

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
