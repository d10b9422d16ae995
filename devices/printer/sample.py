"""The reference ticket (golden tests, previews, bench, demo)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .layout import PrintableTicket, ticket_ops


def reference_ticket(lang: str = "vi") -> PrintableTicket:
    """A birth-registration ticket at the Đạ Huoai commune center, at a fixed time."""
    return PrintableTicket(
        center_name="Trung tâm Phục vụ hành chính công xã Đạ Huoai",
        service_name="Tư pháp–Hộ tịch",
        procedure_name="Đăng ký khai sinh",
        number="A012",
        issued_at=datetime(2025, 3, 12, 8, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        ahead=3,
        est_wait_s=900,
        priority_label="Ưu tiên: Người cao tuổi",
        counters="Quầy số 2",
        documents=("Giấy chứng sinh", "CCCD của cha hoặc mẹ"),
        qr_data="https://dahuoai.example.vn/q/A012",
        footer="Xin cảm ơn quý khách!",
        lang=lang,
    )


def save_previews(directory: str | Path) -> list[Path]:
    """Write ticket-preview-80mm.png and ticket-preview-58mm.png (hybrid) into `directory`."""
    from .lowering import lower
    from .preview import preview
    from .url import parse_printer_url

    out = []
    for name, url in (("80mm", "dummy://?profile=TM-T20II"), ("58mm", "dummy://?profile=POS-5890&qr=native")):
        cfg = parse_printer_url(url).render
        path = Path(directory) / f"ticket-preview-{name}.png"
        preview(lower(ticket_ops(reference_ticket()), cfg), cfg).save(path, optimize=True)
        out.append(path)
    return out


if __name__ == "__main__":  # python -m devices.printer.sample docs/
    for written in save_previews(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(written)
