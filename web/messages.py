"""A Vietnamese line for the config models' (English) messages, shown above them next to the field."""

from __future__ import annotations

import re

_VI = (  # first match wins; the English message stays below with the details
    (r"is not a valid id", "Mã không hợp lệ: chỉ dùng chữ thường a-z, số và dấu '-', không dấu, không cách."),
    (r"is already used by", "Mã hoặc chữ cái này đã được dùng ở mục khác; mỗi mục cần một giá trị riêng."),
    (r"^missing required key", "Ô này bắt buộc; hãy điền vào."),
    (r"must not be empty", "Không được để trống."),
    (r"needs a Vietnamese", "Cần có nội dung tiếng Việt."),
    (r"is smaller than start", "Số cuối nhỏ hơn số đầu; hãy tăng số cuối."),
    (r"pad \d+ is too small", "Số chữ số quá ít cho số cuối."),
    (r"^expected a whole number", "Cần một số nguyên, ví dụ 5."),
    (r"^expected a number", "Cần một số, ví dụ 5 hoặc 7.5."),
    (r"^must be (at least|more than)", "Giá trị quá nhỏ."),
    (r"^must be (at most|less than)", "Giá trị quá lớn."),
    (r"^needs at least", "Cần ít nhất một mục."),
    (r"^bad period", 'Khoảng giờ không hợp lệ; viết dạng "07:30-11:30", giờ kết thúc sau giờ bắt đầu.'),
    (r"overlaps another period", "Các khoảng giờ bị trùng nhau."),
    (r"^bad (holiday|date) .*: no such day", "Không có ngày này trong lịch; kiểm tra ngày và tháng."),
    (r"^bad (holiday|date) .*the last day is before", "Ngày cuối trước ngày đầu; viết ngày đầu trước."),
    (r"^bad (holiday|date)", 'Ngày không hợp lệ; viết dạng "2027-02-05" (năm-tháng-ngày), khoảng "2027-02-05..2027-02-10", '
                             "rồi đến tên."),
    (r"^bad web address", 'Địa chỉ web phải bắt đầu bằng "https://" hoặc "http://".'),
    (r"prefix must be one capital letter", "Chữ cái phải là một chữ in hoa A-Z."),
    (r"^unknown service", "Không có lĩnh vực với mã này; xem danh sách mã bên dưới ô."),
    (r"is listed twice", "Mục này bị ghi hai lần."),
    (r"is not called at any counter", "Lĩnh vực này không được quầy nào gọi; hãy thêm vào một quầy."),
    (r'"normal" is reserved', 'Mã "normal" dành cho người không ưu tiên; chọn mã khác.'),
    (r"^expected one of", "Giá trị không nằm trong các lựa chọn cho phép."),
    (r"is not in site.languages", "Ngôn ngữ này chưa được khai báo cho Trung tâm."),
)
_COMPILED = tuple((re.compile(pattern), vi) for pattern, vi in _VI)


def vietnamese(message: str) -> str:
    """The Vietnamese line for ``message`` ("" when there is none)."""
    text = re.sub(r"^\S+(\[\d+\])?[.\w\[\]]*: ", "", message)  # "services[1].id: ..." in general messages
    return next((vi for rx, vi in _COMPILED if rx.search(text)), "")
