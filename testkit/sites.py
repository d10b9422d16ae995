"""Site configs for tests and benches, made from the shipped commune center (``config/commune.yaml``)."""

from __future__ import annotations

from pathlib import Path

from qms.config import yaml_rt

ROOT = Path(__file__).resolve().parents[1]
COMMUNE = ROOT / "config" / "commune.yaml"

UNLIMITED = {"issue_per_minute": 0, "request_rate": {"per_second": 10_000, "burst": 10_000}, "request_queue": 10_000}
"""``security`` settings that switch the per-device limits off (for stress runs of the store)."""


def always_open_config(folder: Path) -> Path:
    """The commune center as shipped (default limits), with opening hours not enforced (runs at any hour)."""
    text = COMMUNE.read_text(encoding="utf-8")
    assert "enforce: true" in text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.yaml"
    path.write_text(text.replace("enforce: true", "enforce: false", 1), encoding="utf-8")
    return path


def roomy_config(folder: Path, counters: int | None = None, end: int = 9999) -> Path:
    """The commune center, always open, without per-device limits, numbers up to ``end`` so long runs never run out.

    ``counters``: replace the counters by that many, each serving every service (for the load benches).
    """
    yaml = yaml_rt()
    doc = yaml.load(COMMUNE.read_text(encoding="utf-8"))
    doc["hours"]["enforce"] = False
    doc["security"].update(UNLIMITED)  # these runs compress a day: a device asks far faster than in life
    for service in doc["services"]:
        service["numbers"]["end"] = end
        service["numbers"]["pad"] = len(str(end))
    if counters is not None:
        ids = [s["id"] for s in doc["services"]]
        doc["counters"] = [{"id": str(i), "name": f"Quầy {i}", "services": ids} for i in range(1, counters + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.yaml"
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(doc, f)
    return path
