"""The report's PNG dashboard (matplotlib, Agg backend, DejaVu Sans for Vietnamese).

Nine panels a manager reads at a glance: arrivals by hour, waiting time by service and by hour of day,
service time by service, load per officer, satisfaction (score 0–100 and % of 4–5★) by service, officer
and counter, tickets issued vs served per day. Figures carry the tables' precision: minutes with one
decimal, scores with one decimal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from qms.report_model import Report, Stats, minutes

BLUE, LIGHT, ORANGE, GREEN, RED, GREY = "#1f5fa8", "#9cc1e8", "#e8892b", "#2e9e5b", "#c8423b", "#777777"


def _bar_labels(ax: Axes, bars: Any, texts: list[str]) -> None:
    ax.bar_label(bars, labels=texts, padding=3, fontsize=9, color=GREY)


def _empty(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontweight="bold")
    ax.text(0.5, 0.5, "Không có dữ liệu", ha="center", va="center", color=GREY, transform=ax.transAxes)
    ax.set_axis_off()


def _style(ax: Axes, title: str, subtitle: str) -> None:
    ax.set_title(f"{title}\n", loc="left", fontweight="bold", fontsize=13)
    ax.text(0, 1.02, subtitle, transform=ax.transAxes, fontsize=9, color=GREY)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def arrivals_panel(ax: Axes, rows: list[Stats]) -> None:
    """Bars of tickets issued per arrival hour."""
    title = "Lượt đến theo giờ"
    if not rows:
        return _empty(ax, title)
    hours = [int(r.key) for r in rows]
    span = list(range(min(hours), max(hours) + 1))
    counts = {int(r.key): r.issued for r in rows}
    bars = ax.bar([f"{h}h" for h in span], [counts.get(h, 0) for h in span], color=BLUE, width=0.7)
    _bar_labels(ax, bars, [str(counts.get(h, "")) for h in span])
    _style(ax, title, "Số phiếu cấp trong mỗi giờ (tổng cả kỳ báo cáo)")
    ax.set_ylabel("phiếu")
    ax.margins(y=0.15)


def _minutes_bars(ax: Axes, rows: list[Stats], title: str, subtitle: str,
                  outer: tuple[str, str], inner: tuple[str, str]) -> None:
    """Horizontal bars per service, in minutes: a wide light bar (``outer``) behind a narrow blue one (``inner``).

    ``outer`` and ``inner`` are (Stats field in seconds, legend text); the first service is on top.
    """
    rows = [r for r in rows if getattr(r, outer[0]) is not None][::-1]
    if not rows:
        return _empty(ax, title)
    y = range(len(rows))
    wide_values = [minutes(getattr(r, outer[0])) or 0 for r in rows]
    narrow_values = [minutes(getattr(r, inner[0])) or 0 for r in rows]
    wide_bars = ax.barh(y, wide_values, color=LIGHT, height=0.7, label=outer[1])
    narrow_bars = ax.barh(y, narrow_values, color=BLUE, height=0.4, label=inner[1])
    ax.bar_label(wide_bars, labels=[f"{v:.1f} phút" for v in wide_values], padding=3, fontsize=9, color=GREY)
    room = max(wide_values) * 0.12  # a label inside a narrow bar only where it fits
    ax.bar_label(narrow_bars, labels=[f"{v:.1f}" if v >= room else "" for v in narrow_values],
                 label_type="center", fontsize=9, color="white")
    ax.set_yticks(list(y), [r.label for r in rows])
    ax.set_xlabel("phút")
    ax.margins(x=0.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=9, frameon=False, ncols=2)
    _style(ax, title, subtitle)


def waiting_panel(ax: Axes, rows: list[Stats]) -> None:
    """Horizontal bars: median and 90th percentile waiting time per service."""
    _minutes_bars(ax, rows, "Thời gian chờ theo lĩnh vực", "Từ lúc lấy số đến lúc được gọi",
                  ("wait_p90_s", "90% số người chờ không quá (P90)"), ("wait_p50_s", "Trung vị: một nửa chờ ít hơn"))


def satisfaction_panel(ax: Axes, rows: list[Stats], title: str = "Mức độ hài lòng theo quầy") -> None:
    """Horizontal bars: satisfaction score 0–100 per group, coloured by level, with the % of 4–5★ ratings."""
    rows = [r for r in rows if r.satisfaction is not None]
    if not rows:
        return _empty(ax, title)
    rows = rows[::-1]
    y = range(len(rows))
    scores = [r.satisfaction or 0.0 for r in rows]
    colors = [GREEN if s >= 75 else ORANGE if s >= 50 else RED for s in scores]
    bars = ax.barh(y, scores, color=colors, height=0.6)
    ax.bar_label(bars, labels=[f"{s:.1f} · 4–5★ {r.good_share or 0:.1f}% ({r.rated} lượt)"
                               for s, r in zip(scores, rows, strict=True)], padding=3, fontsize=9, color=GREY)
    ax.set_yticks(list(y), [r.label for r in rows])
    ax.set_xlim(0, 150)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("điểm 0–100 (1★ = 0, 5★ = 100)")
    _style(ax, title, "Điểm 0–100 · tỉ lệ đánh giá 4–5★ · xanh: từ 75 · cam: 50–74 · đỏ: dưới 50")


def service_time_panel(ax: Axes, rows: list[Stats]) -> None:
    """Horizontal bars: mean and 90th percentile service time per service."""
    _minutes_bars(ax, rows, "Thời gian phục vụ theo lĩnh vực", "Từ lúc gọi đến lúc xong (hoặc chuyển đi)",
                  ("service_p90_s", "P90: 90% không quá"), ("service_avg_s", "Trung bình"))


def officer_load_panel(ax: Axes, rows: list[Stats]) -> None:
    """Stacked horizontal bars per officer: served, transferred on, no-shows."""
    title = "Khối lượng theo cán bộ"
    rows = [r for r in rows if r.served + r.transferred_out + r.no_show][::-1]
    if not rows:
        return _empty(ax, title)
    y = list(range(len(rows)))
    served = [r.served for r in rows]
    moved = [r.transferred_out for r in rows]
    absent = [r.no_show for r in rows]
    ax.barh(y, served, color=BLUE, height=0.6, label="Đã phục vụ")
    ax.barh(y, moved, left=served, color=ORANGE, height=0.6, label="Chuyển đi")
    left = [a + b for a, b in zip(served, moved, strict=True)]
    bars = ax.barh(y, absent, left=left, color=LIGHT, height=0.6, label="Vắng mặt")
    ax.bar_label(bars, labels=[f"{s} xong · {m} chuyển · {a} vắng" for s, m, a in zip(served, moved, absent,
                                                                                       strict=True)],
                 padding=3, fontsize=9, color=GREY)
    ax.set_yticks(y, [r.label for r in rows])
    ax.set_xlabel("lượt gọi")
    ax.set_xlim(0, max(a + b for a, b in zip(left, absent, strict=True)) * 1.75)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=9, frameon=False, ncols=3)
    _style(ax, title, "Lượt gọi mỗi cán bộ đã xử lý trong kỳ")


def wait_by_hour_panel(ax: Axes, rows: list[Stats]) -> None:
    """Bars per arrival hour: mean wait, with the 90th percentile as a dot."""
    title = "Thời gian chờ theo giờ đến"
    rows = [r for r in rows if r.wait_avg_s is not None]
    if not rows:
        return _empty(ax, title)
    hours = [int(r.key) for r in rows]
    span = list(range(min(hours), max(hours) + 1))
    by_hour = {int(r.key): r for r in rows}
    avg = [minutes(by_hour[h].wait_avg_s) if h in by_hour else 0 for h in span]
    p90 = [minutes(by_hour[h].wait_p90_s) if h in by_hour else None for h in span]
    labels = [f"{h}h" for h in span]
    bars = ax.bar(labels, avg, color=BLUE, width=0.7, label="Trung bình")
    ax.bar_label(bars, labels=[f"{v:.1f}" if h in by_hour else "" for v, h in zip(avg, span, strict=True)],
                 padding=3, fontsize=9, color=GREY)
    ax.plot([lbl for lbl, v in zip(labels, p90, strict=True) if v is not None], [v for v in p90 if v is not None],
            "o", color=ORANGE, label="P90: 90% không quá")
    ax.set_ylabel("phút")
    ax.margins(y=0.2)
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    _style(ax, title, "Từ lúc lấy số (hoặc chuyển đến) đến lúc được gọi")


def daily_panel(ax: Axes, rows: list[Stats]) -> None:
    """Bars per day: tickets issued, with the served ones in front."""
    title = "Cấp số và đã phục vụ theo ngày"
    if not rows:
        return _empty(ax, title)
    x = range(len(rows))
    ax.bar(x, [r.issued for r in rows], color=LIGHT, width=0.8, label="Cấp số")
    ax.bar(x, [r.served for r in rows], color=BLUE, width=0.5, label="Đã phục vụ")
    step = max(1, round(len(rows) / 16))
    ax.set_xticks(list(x)[::step], [r.label.split(" ", 1)[-1][:5] for r in rows][::step],
                  rotation=45 if len(rows) > 10 else 0, ha="right" if len(rows) > 10 else "center",
                  rotation_mode="anchor", fontsize=9)
    ax.set_ylabel("phiếu")
    ax.legend(loc="upper left", fontsize=9, frameon=False, ncols=2)
    ax.margins(y=0.18)
    _style(ax, title, "Phần còn lại là vắng mặt hoặc chưa phục vụ xong")


def headline(report: Report) -> str:
    """The dashboard's title: the period's totals with the table's precision."""
    total = report.total
    score = "–" if total.satisfaction is None else f"{total.satisfaction:.1f}/100"
    share = "" if total.good_share is None else f" (4–5★: {total.good_share:.1f}%)"
    wait = "–" if total.wait_avg_s is None else f"{minutes(total.wait_avg_s):.1f} phút"
    return (f"{report.title or 'Báo cáo cấp số thứ tự'}\n"
            f"{report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}   ·   cấp {total.issued}   ·   "
            f"đã phục vụ {total.served}   ·   vắng mặt {total.no_show}   ·   chuyển {total.transferred_out}   ·   "
            f"chờ trung bình {wait}   ·   hài lòng {score}{share}")


def render_dashboard(report: Report, path: Path, dpi: int = 100) -> Path:
    """Write the nine-panel dashboard as a PNG; returns ``path``."""
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 10})
    fig, axes = plt.subplots(3, 3, figsize=(22, 16), layout="constrained")
    fig.suptitle(headline(report), fontsize=16, fontweight="bold")
    arrivals_panel(axes[0][0], report.sections["hour"])
    wait_by_hour_panel(axes[0][1], report.sections["hour"])
    daily_panel(axes[0][2], report.sections["day"])
    waiting_panel(axes[1][0], report.sections["service"])
    service_time_panel(axes[1][1], report.sections["service"])
    officer_load_panel(axes[1][2], report.sections["officer"])
    satisfaction_panel(axes[2][0], report.sections["service"], "Mức độ hài lòng theo lĩnh vực")
    satisfaction_panel(axes[2][1], report.sections["officer"], "Mức độ hài lòng theo cán bộ")
    satisfaction_panel(axes[2][2], report.sections["counter"], "Mức độ hài lòng theo quầy")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata={"Title": headline(report).replace("\n", " — ")})
    plt.close(fig)
    return path
