"""The reference ticket (golden tests, previews, bench, demo)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .layout import PrintableTicket


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
