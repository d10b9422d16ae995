"""The pages of the site config: which part of the YAML each edits, with which fields, for which role."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from qms.config import ProcedureCfg
from qms.config.errors import Loc

from .configedit import Field, get_at

MANAGER, TECHNICIAN = "manager", "technician"

WEEKDAYS = (("mon", "Thứ Hai / Mon"), ("tue", "Thứ Ba / Tue"), ("wed", "Thứ Tư / Wed"), ("thu", "Thứ Năm / Thu"),
            ("fri", "Thứ Sáu / Fri"), ("sat", "Thứ Bảy / Sat"), ("sun", "Chủ nhật / Sun"))
ID_HELP = "chữ thường a-z, số và '-', không dấu / lowercase a-z, digits and '-', no accents; cannot be changed later"


def text_of(value: Any, lang: str = "vi") -> str:
    """A localized YAML value in ``lang`` (falling back to Vietnamese)."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("vi") or "")
    return "" if value is None else str(value)


def _seq(doc: Any, loc: Loc) -> list[Any]:
    value = get_at(doc, loc)
    return list(value) if isinstance(value, list) else []


@dataclass(frozen=True)
class Row:
    """One line of a list page: the item's key (its id), where it is, and the cells shown."""

    key: str
    loc: Loc
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """One page (a singleton form) or a list of items with add / edit / delete."""

    name: str
    title: str
    role: str
    fields: Callable[[Any, Loc | None], list[Field]]
    single_loc: Loc | None = None  # singleton: the form's location
    rows: Callable[[Any], list[Row]] | None = None  # collection: the items
    columns: tuple[str, ...] = ()
    append: Callable[[Any, Mapping[str, Any]], Loc] | None = None  # collection: add an empty item
    after: Callable[[Any, Loc], None] | None = None  # tidy the item after the form is written
    intro: str = ""

    @property
    def is_single(self) -> bool:
        """A one-form page (no list)."""
        return self.rows is None

    def locate(self, doc: Any, key: str) -> Loc | None:
        """The location of the item with id ``key``."""
        return next((r.loc for r in (self.rows(doc) if self.rows else []) if r.key == key), None)


# ---- services ---------------------------------------------------------------------------------------


def _service_rows(doc: Any) -> list[Row]:
    rows = []
    for i, s in enumerate(_seq(doc, ("services",))):
        n = s.get("numbers") or {}
        hours = s.get("hours")
        rows.append(Row(str(s.get("id")), ("services", i), (
            str(s.get("prefix", "")), text_of(s.get("name")), f"{n.get('start', 1)}–{n.get('end', 999)}",
            "—" if s.get("daily_quota") is None else str(s.get("daily_quota")),
            ", ".join(hours.get("periods", [])) if isinstance(hours, Mapping) else "giờ chung / center's",
            str(len(s.get("procedures") or [])))))
    return rows


def _service_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [
        Field("id", ("id",), "Mã / Id", help=ID_HELP, new_only=True),
        Field("prefix", ("prefix",), "Chữ cái / Letter", help="một chữ in hoa A-Z / one capital letter A-Z"),
        Field("name", ("name",), "Tên / Name", "text"),
        Field("start", ("numbers", "start"), "Số đầu / First number", "int"),
        Field("end", ("numbers", "end"), "Số cuối / Last number", "int"),
        Field("pad", ("numbers", "pad"), "Số chữ số / Digits", "int"),
        Field("wrap", ("numbers", "wrap"), "Hết số thì quay lại / Start again after the last", "bool"),
        Field("quota", ("daily_quota",), "Tối đa mỗi ngày / Daily quota", "optint",
              help="để trống = không giới hạn / empty = no limit"),
        Field("weekdays", ("hours", "weekdays"), "Ngày riêng / Own days", "checks", options=WEEKDAYS),
        Field("periods", ("hours", "periods"), "Giờ riêng / Own hours", "lines",
              help='mỗi dòng một khoảng "07:30-11:30"; để trống = giờ của Trung tâm / one "HH:MM-HH:MM" a line; '
                   "empty = the center's hours"),
    ]


def _service_append(doc: Any, form: Mapping[str, Any]) -> Loc:
    services = doc["services"]
    services.append(CommentedMap({"id": "", "prefix": "", "name": "",
                                  "numbers": CommentedMap({"start": 1, "end": 999, "pad": 3, "wrap": False}),
                                  "daily_quota": None, "hours": None, "procedures": []}))
    services[-1]["numbers"].fa.set_flow_style()
    return ("services", len(services) - 1)


def _service_after(doc: Any, loc: Loc) -> None:
    service = get_at(doc, loc)
    hours = service.get("hours")
    if isinstance(hours, Mapping) and not hours.get("periods") and not hours.get("weekdays"):
        service["hours"] = None  # no own days or periods: the center's hours (days alone: the model says why)


# ---- procedures -------------------------------------------------------------------------------------


def _procedure_rows(doc: Any) -> list[Row]:
    rows = []
    for i, s in enumerate(_seq(doc, ("services",))):
        for j, p in enumerate(s.get("procedures") or []):
            docs = p.get("documents")
            n_docs = len(docs.get("vi") or []) if isinstance(docs, Mapping) else len(docs or [])
            rows.append(Row(str(p.get("id")), ("services", i, "procedures", j),
                            (f"{s.get('prefix', '')} · {text_of(s.get('name'))}", text_of(p.get("name")),
                             text_of(p.get("name"), "en"), str(n_docs))))
    return rows


SERVICE_TIME_KEYS = ("service_min", "default_service_min", "service_time_min")


def service_time_key() -> str | None:
    """The procedure's default service time key, when this version of the config has one."""
    return next((k for k in SERVICE_TIME_KEYS if k in ProcedureCfg.model_fields), None)


def _procedure_fields(doc: Any, loc: Loc | None) -> list[Field]:
    services = tuple((str(s.get("id")), f"{s.get('prefix', '')} · {text_of(s.get('name'))}")
                     for s in _seq(doc, ("services",)))
    fields = [
        Field("service", (), "Lĩnh vực / Service", "select", options=services, new_only=True),
        Field("id", ("id",), "Mã / Id", help=ID_HELP, new_only=True),
        Field("name", ("name",), "Tên thủ tục / Name", "text"),
        Field("documents", ("documents",), "Giấy tờ cần mang / Documents to bring", "textlines",
              help="mỗi dòng một giấy tờ / one document a line"),
        Field("portal_url", ("portal_url",), "Trang Dịch vụ công / Portal page", help="https://..."),
    ]
    key = service_time_key()
    if key:
        fields.insert(4, Field("service_min", (key,), "Thời gian phục vụ mặc định (phút) / Default service time "
                               "(minutes)", "num", help="để trống = theo lĩnh vực / empty = the service's"))
    else:
        queue_min = get_at(doc, ("queue", "default_service_min"), 5)
        fields.insert(4, Field("service_min", (), "Thời gian phục vụ mặc định (phút) / Default service time "
                               "(minutes)", "num", help=f"chung cho mọi thủ tục: {queue_min} phút (trang Cách gọi "
                               f"số) / the same for every procedure: {queue_min} min (page Policy)", new_only=True))
    return fields


def _procedure_append(doc: Any, form: Mapping[str, Any]) -> Loc:
    wanted = str(form.get("service", ""))
    services = _seq(doc, ("services",))
    i = next((i for i, s in enumerate(services) if str(s.get("id")) == wanted), 0)
    if not doc["services"][i].get("procedures"):  # none, or "[]": a block list from now on
        doc["services"][i]["procedures"] = CommentedSeq()
    procs = doc["services"][i]["procedures"]
    procs.append(CommentedMap({"id": "", "name": ""}))
    return ("services", i, "procedures", len(procs) - 1)


# ---- counters and officers --------------------------------------------------------------------------


def _counter_rows(doc: Any) -> list[Row]:
    return [Row(str(c.get("id")), ("counters", i),
                (text_of(c.get("name")), " → ".join(str(x) for x in c.get("services") or []),
                 ", ".join(str(x) for x in c.get("officers") or []), str(c.get("status", "open"))))
            for i, c in enumerate(_seq(doc, ("counters",)))]


def _counter_fields(doc: Any, loc: Loc | None) -> list[Field]:
    ids = ", ".join(str(s.get("id")) for s in _seq(doc, ("services",)))
    return [
        Field("id", ("id",), "Mã / Id", help='ví dụ / e.g. "5"; ' + ID_HELP, new_only=True),
        Field("name", ("name",), "Tên / Name", "text"),
        Field("services", ("services",), "Lĩnh vực theo thứ tự ưu tiên / Services in order of preference", "csv",
              help=f"mã, cách nhau bởi dấu phẩy, quan trọng nhất trước / ids separated by commas, most important "
                   f"first: {ids}"),
        Field("officers", ("officers",), "Cán bộ / Officers", "lines", help="mỗi dòng một người / one a line"),
        Field("status", ("status",), "Đầu ngày / At start of day", "select",
              options=(("open", "mở / open"), ("paused", "tạm dừng / paused"), ("closed", "đóng / closed"))),
    ]


def _counter_append(doc: Any, form: Mapping[str, Any]) -> Loc:
    doc["counters"].append(CommentedMap({"id": "", "name": "", "services": [], "officers": [], "status": "open"}))
    return ("counters", len(doc["counters"]) - 1)


def _officer_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [Field(f"counter-{i}", ("counters", i, "officers"),
                  f"{text_of(c.get('name'))} ({c.get('id')}) / {text_of(c.get('name'), 'en')}", "lines",
                  help="mỗi dòng một người / one name a line")
            for i, c in enumerate(_seq(doc, ("counters",)))]


# ---- priorities, policy, hours, notices -------------------------------------------------------------


def _priority_rows(doc: Any) -> list[Row]:
    return [Row(str(p.get("id")), ("priorities", i), (text_of(p.get("name")), text_of(p.get("name"), "en")))
            for i, p in enumerate(_seq(doc, ("priorities",)))]


def _priority_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [Field("id", ("id",), "Mã / Id", help=ID_HELP, new_only=True),
            Field("name", ("name",), "Nhãn trên kiosk / Label on the kiosk", "text"),
            Field("icon", ("icon",), "Biểu tượng / Icon", help="elderly, disabled, pregnant, ...")]


def _priority_append(doc: Any, form: Mapping[str, Any]) -> Loc:
    if doc.get("priorities") is None:
        doc["priorities"] = []
    doc["priorities"].append(CommentedMap({"id": "", "name": ""}))
    return ("priorities", len(doc["priorities"]) - 1)


def _policy_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [
        Field("policy", ("policy",), "Cách gọi người ưu tiên / Priority policy", "select", options=(
            ("strict", "strict — ưu tiên luôn trước / priority always first"),
            ("ratio", "ratio — xen kẽ theo tỉ lệ / mixed by a ratio"),
            ("ageing", "ageing — cộng thêm phút chờ / minutes of head start"))),
        Field("ratio_normal", ("ratio_normal",), "ratio: lượt thường giữa hai lượt ưu tiên / normal calls between "
              "two priority calls", "int"),
        Field("ageing_bonus_min", ("ageing_bonus_min",), "ageing: số phút cộng thêm / minutes of head start", "int"),
        Field("max_recalls", ("max_recalls",), "Số lần gọi lại tối đa / Most recalls", "int"),
        Field("default_service_min", ("default_service_min",), "Thời gian phục vụ mặc định (phút) / Default service "
              "time (minutes)", "num", help="dùng để ước tính thời gian chờ / used for the wait estimate"),
    ]


def _hours_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [
        Field("enforce", ("enforce",), "Ngoài giờ không cấp số / No tickets outside these hours", "bool"),
        Field("weekdays", ("weekdays",), "Ngày làm việc / Open days", "checks", options=WEEKDAYS),
        Field("periods", ("periods",), "Giờ làm việc / Opening hours", "lines",
              help='mỗi dòng một khoảng, ví dụ "07:30-11:30" / one period a line, e.g. "07:30-11:30"'),
        Field("holidays", ("holidays",), "Ngày nghỉ lễ / Holidays", "lines",
              help='mỗi dòng một ngày hoặc một khoảng, rồi tên: "2027-09-02 Quốc khánh", "2027-02-05..2027-02-10 Tết '
                   'Nguyên đán"; kiosk hiện tên / one a line, a day or a range, then the name shown on the kiosk'),
        Field("extra_days", ("extra_days",), "Ngày làm bù / Extra working days", "lines",
              help='mỗi dòng một ngày, ví dụ "2027-02-20", cùng giờ như trên / one day a line, same hours as above'),
    ]


def _notice_fields(doc: Any, loc: Loc | None) -> list[Field]:
    return [
        Field("notice", ("display", "notice"), "Thông báo chạy trên màn hình / Scrolling notice on the display", "text",
              help="để trống = không có / empty = none"),
        Field("footer", ("printer", "footer"), "Dòng cuối phiếu / Line at the bottom of each ticket", "text"),
    ]


SECTIONS: dict[str, Section] = {s.name: s for s in (
    Section("procedures", "Thủ tục / Procedures", MANAGER, _procedure_fields, rows=_procedure_rows,
            columns=("Lĩnh vực / Service", "Tên / Name", "Tiếng Anh / English", "Giấy tờ / Documents"), append=_procedure_append),
    Section("officers", "Cán bộ / Officers", MANAGER, _officer_fields, single_loc=(),
            intro="Cán bộ thường làm việc ở mỗi quầy / The officers who usually work at each counter."),
    Section("hours", "Giờ làm việc / Opening hours", MANAGER, _hours_fields, single_loc=("hours",)),
    Section("notices", "Thông báo / Notices", MANAGER, _notice_fields, single_loc=()),
    Section("services", "Lĩnh vực / Services", TECHNICIAN, _service_fields, rows=_service_rows,
            columns=("Chữ / Letter", "Tên / Name", "Số / Numbers", "Tối đa / Quota", "Giờ / Hours",
                     "Thủ tục / Procedures"), append=_service_append, after=_service_after),
    Section("counters", "Quầy / Counters", TECHNICIAN, _counter_fields, rows=_counter_rows,
            columns=("Tên / Name", "Lĩnh vực / Services", "Cán bộ / Officers", "Đầu ngày / Start"),
            append=_counter_append),
    Section("priorities", "Đối tượng ưu tiên / Priority kinds", TECHNICIAN, _priority_fields, rows=_priority_rows,
            columns=("Tên / Name", "Tiếng Anh / English"), append=_priority_append),
    Section("policy", "Cách gọi số / Call policy", TECHNICIAN, _policy_fields, single_loc=("queue",)),
)}
