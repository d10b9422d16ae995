"""The web app through Flask's test client: login, roles, forms validated like `qms config check`, versions."""

from __future__ import annotations

import difflib
import html
import os
import stat
import time

import pytest

from qms.config import load_config
from qms.config.fields import format_holiday
from web.accounts import Accounts, LoginLimiter, verify_password

from .conftest import MANAGER, TECHNICIAN, config_text, csrf_of, post_form, tokens_of

NEW_PROCEDURE = {
    "service": "tu-phap", "id": "nhan-cha-me-con", "name_vi": "Đăng ký nhận cha, mẹ, con",
    "name_en": "Recognition of parents and children",
    "documents_vi": "Tờ khai đăng ký nhận cha, mẹ, con (theo mẫu)\nCCCD của người yêu cầu",
    "documents_en": "Registration form\nCitizen ID of the applicant", "portal_url": "",
}


# ---- login and roles --------------------------------------------------------------------------------


def test_pages_need_a_login(app):
    client = app.test_client()
    r = client.get("/procedures")
    assert r.status_code == 302 and r.location.startswith("/login")
    page = client.get(r.location).get_data(as_text=True)
    assert "Đăng nhập" in page and "Log in" in page


def test_a_wrong_password_is_refused_and_failures_are_rate_limited(app):
    client = app.test_client()
    for _ in range(5):
        r = client.post("/login", data={"username": MANAGER[0], "password": "sai-mat-khau"})
        assert r.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in r.get_data(as_text=True)
    r = client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1]})  # right, but too late
    assert r.status_code == 429
    assert "Too many failed logins" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


def test_the_limiter_forgets_after_its_window():
    now = [1000.0]
    limiter = LoginLimiter(limit=2, window_s=60, clock=lambda: now[0])
    limiter.failed("ip:a")
    limiter.failed("ip:a")
    assert limiter.wait_s("ip:a") == 60
    now[0] += 30
    assert limiter.wait_s("ip:a") == 30
    now[0] += 31
    assert limiter.wait_s("ip:a") == 0


def test_sessions_expire_after_idle_time(app, login):
    client = login(MANAGER)
    assert client.get("/").status_code == 200
    with client.session_transaction() as s:
        s["seen"] = time.time() - 31 * 60
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.location
    assert "Phiên làm việc đã hết hạn" in client.get(r.location).get_data(as_text=True)


def test_a_manager_is_refused_the_technicians_pages(login):
    client = login(MANAGER)
    for url in ("/devices", "/services", "/counters", "/policy", "/priorities", "/services/tu-phap"):
        r = client.get(url)
        assert r.status_code == 403, url
        page = r.get_data(as_text=True)
        assert "Không có quyền" in page and "Traceback" not in page
    home = client.get("/").get_data(as_text=True)
    assert 'href="/devices"' not in home and 'href="/procedures"' in home


def test_a_technician_sees_every_page(login):
    client = login(TECHNICIAN)
    for url in ("/", "/devices", "/services", "/services/tu-phap", "/counters", "/counters/1", "/policy",
                "/priorities", "/priorities/elderly", "/procedures", "/procedures/khai-sinh", "/officers", "/hours",
                "/notices", "/versions", "/services/new", "/counters/new", "/priorities/new"):
        assert client.get(url).status_code == 200, url
    devices = client.get("/devices").get_data(as_text=True)
    assert "no broker configured" in devices


def test_unknown_pages_and_bad_input_get_a_friendly_page(login):
    client = login(MANAGER)
    for url, code in (("/khong-co", 404), ("/procedures/khong-co", 404), ("/versions/999", 404),
                      ("/versions/abc", 404), ("/procedures/%00%ff", 404), ("/static/../accounts.json", 404)):
        r = client.get(url)
        assert r.status_code == code, url
        page = r.get_data(as_text=True)
        assert "Traceback" not in page and ("Không tìm thấy" in page or "Không có quyền" in page), url
    r = client.post("/procedures/new", data=NEW_PROCEDURE)  # no CSRF token
    assert r.status_code == 400 and "Yêu cầu không hợp lệ" in r.get_data(as_text=True)
    r = client.post("/versions/1/restore", data={"csrf": "x"})
    assert r.status_code == 400


# ---- editing ----------------------------------------------------------------------------------------


def test_a_manager_adds_a_procedure_kept_with_comments_and_versioned(app, settings, login):
    before = config_text(settings)
    client = login(MANAGER)
    r = post_form(client, "/procedures/new", NEW_PROCEDURE)
    assert r.status_code == 302, r.get_data(as_text=True)
    after = config_text(settings)
    assert "# Cấu hình Trung tâm Phục vụ hành chính công xã" in after  # comments kept
    assert "# múi giờ / time zone (IANA name)" in after
    service, procedure = load_config(settings.config_path).procedure("nhan-cha-me-con")
    assert service.id == "tu-phap"
    assert procedure.name.text("vi") == "Đăng ký nhận cha, mẹ, con"
    assert procedure.documents.root["vi"] == ["Tờ khai đăng ký nhận cha, mẹ, con (theo mẫu)", "CCCD của người yêu cầu"]
    # only the new lines were added: every old line is still there, in order
    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False).get_opcodes()
    assert {tag for tag, *_ in ops} == {"equal", "insert"}
    listing = client.get("/procedures").get_data(as_text=True)
    assert "Đăng ký nhận cha, mẹ, con" in listing
    versions = client.get("/versions").get_data(as_text=True)
    assert "nhan-cha-me-con" in versions and MANAGER[0] in versions
    diff = client.get("/versions/2").get_data(as_text=True)
    assert "+      - id: nhan-cha-me-con" in diff


def test_an_invalid_value_is_shown_next_to_its_field_and_nothing_is_saved(settings, login):
    before = config_text(settings)
    client = login(MANAGER)
    bad = {**NEW_PROCEDURE, "id": "Nhận cha mẹ", "portal_url": "dichvucong"}
    r = post_form(client, "/procedures/new", bad)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    id_block = page.split('id="field-id"')[1].split('class="field')[0]
    assert "is not a valid id" in id_block and 'did you mean "nhan-cha-me"?' in id_block.replace("&#34;", '"')
    url_block = page.split('id="field-portal_url"')[1].split("</div>")[0]
    assert "✗" in url_block
    assert 'value="Đăng ký nhận cha, mẹ, con"' in page  # what was typed stays in the form
    assert config_text(settings) == before
    assert not (settings.web_dir / "versions").exists()


def test_a_duplicate_id_and_an_empty_name_are_refused(settings, login):
    client = login(MANAGER)
    r = post_form(client, "/procedures/new", {**NEW_PROCEDURE, "id": "khai-sinh", "name_vi": "", "name_en": ""})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    name_block = page.split('id="field-name"')[1].split('class="field')[0]
    assert "missing required key" in name_block
    assert "khai-sinh" in page and "Not saved" in page


def test_a_technician_gets_the_numbers_error_on_the_right_field(settings, login):
    before = config_text(settings)
    client = login(TECHNICIAN)
    page = client.get("/services/tu-phap").get_data(as_text=True)
    r = client.post("/services/tu-phap", data={
        **tokens_of(page), "prefix": "A", "name_vi": "Tư pháp – Hộ tịch", "name_en": "Justice",
        "start": "50", "end": "10", "pad": "3", "quota": "abc", "periods": ""})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "end (10) is smaller than start (50)" in page.split('id="field-end"')[1].split('class="field')[0]
    assert "expected a whole number" in page.split('id="field-quota"')[1].split('class="field')[0]
    assert config_text(settings) == before


def test_hours_notices_and_officers_are_saved(settings, login):
    client = login(MANAGER)
    r = post_form(client, "/hours", {"enforce": "on", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                      "periods": "07:00-11:30\n13:00-17:00"})
    assert r.status_code == 302
    r = post_form(client, "/notices", {"notice_vi": "Nghỉ Tết từ 14/2 đến 22/2", "notice_en": "Closed for Tết",
                                        "footer_vi": "Cảm ơn quý khách", "footer_en": ""})
    assert r.status_code == 302
    page = client.get("/officers").get_data(as_text=True)
    r = client.post("/officers", data={**tokens_of(page), "counter-0": "Nguyễn Thị Hoa\nTrần Văn Nam"})
    assert r.status_code == 302
    cfg = load_config(settings.config_path)
    assert cfg.hours.weekdays == ["mon", "tue", "wed", "thu", "fri"]
    assert [(str(a), str(b)) for a, b in cfg.hours.periods] == [("07:00:00", "11:30:00"), ("13:00:00", "17:00:00")]
    assert cfg.display.notice.text("vi") == "Nghỉ Tết từ 14/2 đến 22/2"
    assert cfg.printer.footer.text("vi") == "Cảm ơn quý khách"
    assert cfg.counters[0].officers == ["Nguyễn Thị Hoa", "Trần Văn Nam"]
    r = post_form(client, "/hours", {"weekdays": ["mon"], "periods": "11:00-09:00"})
    assert r.status_code == 422
    assert "✗" in r.get_data(as_text=True).split('id="field-periods"')[1].split('class="field')[0]


def test_deleting_a_service_a_counter_needs_is_refused(settings, login):
    before = config_text(settings)
    client = login(TECHNICIAN)
    page = client.get("/services/tu-phap").get_data(as_text=True)
    csrf = csrf_of(page)
    r = client.post("/services/tu-phap/delete", data={"csrf": csrf}, follow_redirects=True)
    assert "Không xoá được" in r.get_data(as_text=True)
    assert config_text(settings) == before


def test_rollback_brings_an_old_version_back_as_a_new_version(settings, login):
    original = config_text(settings)
    client = login(MANAGER)
    assert post_form(client, "/procedures/new", NEW_PROCEDURE).status_code == 302
    page = client.get("/versions/1").get_data(as_text=True)
    assert "Quay lại phiên bản này" in page
    r = client.post("/versions/1/restore", data={"csrf": csrf_of(page)}, follow_redirects=True)
    assert "Back to version 1" in r.get_data(as_text=True)
    assert config_text(settings) == original
    assert "nhan-cha-me-con" not in client.get("/procedures").get_data(as_text=True)
    versions = client.get("/versions").get_data(as_text=True)
    assert "restored version 1" in versions
    assert client.get("/versions/3").status_code == 200  # history only grows


def test_a_hand_edit_is_recorded_before_the_next_save(settings, login):
    client = login(MANAGER)
    assert post_form(client, "/procedures/new", NEW_PROCEDURE).status_code == 302
    text = config_text(settings).replace("history: 6", "history: 5")
    assert "history: 5" in text
    settings.config_path.write_text(text, encoding="utf-8")
    page = client.get("/versions").get_data(as_text=True)
    assert "edited by hand" in page
    assert "history: 5" in client.get("/versions/3").get_data(as_text=True)


def test_a_broken_file_is_reported_and_a_version_can_be_restored(settings, login):
    client = login(MANAGER)
    assert post_form(client, "/procedures/new", NEW_PROCEDURE).status_code == 302
    settings.config_path.write_text("site: [unclosed\n", encoding="utf-8")
    r = client.get("/procedures")
    assert r.status_code == 409 and "YAML syntax error" in r.get_data(as_text=True)
    page = client.get("/versions/2").get_data(as_text=True)
    client.post("/versions/2/restore", data={"csrf": csrf_of(page)})
    assert load_config(settings.config_path).procedure("nhan-cha-me-con")


# ---- accounts ---------------------------------------------------------------------------------------


def test_the_account_file_is_private_and_holds_no_password(app, settings):
    path = settings.web_dir / "accounts.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert MANAGER[1] not in text and "scrypt$" in text
    accounts = Accounts(path)
    assert accounts.check(MANAGER[0], MANAGER[1]).role == "manager"
    assert accounts.check(MANAGER[0], "wrong-password") is None
    assert accounts.check("nobody", MANAGER[1]) is None
    assert not verify_password("x", "garbage")


def test_a_new_item_goes_before_the_next_sections_heading(settings, login):
    before = config_text(settings).replace("    icon: pregnant\n", "    icon: pregnant   # ghi chú cuối dòng\n")
    settings.config_path.write_text(before, encoding="utf-8")
    client = login(TECHNICIAN)
    r = post_form(client, "/priorities/new", {"id": "tre-em", "name_vi": "Trẻ em dưới 6 tuổi", "name_en": "Child"})
    assert r.status_code == 302
    after = config_text(settings)
    assert ('    icon: pregnant   # ghi chú cuối dòng\n  - id: tre-em\n    name: {vi: "Trẻ em dưới 6 tuổi", en: "Child"}\n'
            '\n# --- Lĩnh vực và thủ tục') in after
    assert r.status_code == 302 and load_config(settings.config_path).priority("tre-em")
    r = post_form(client, "/procedures/new", {**NEW_PROCEDURE, "service": "huong-dan"})
    assert '"Phone with the VNeID app (if any)"\n        portal_url: "https://dichvucong.gov.vn"\n      - id: nhan-cha-me-con' \
        in config_text(settings)
    assert '"Citizen ID of the applicant"\n\n  - id: tu-phap' in config_text(settings)


def test_the_save_hook_gets_every_new_version(app, settings, login):
    seen: list[tuple[int, bool]] = []
    settings.on_save = lambda text, number: seen.append((number, "nhan-cha-me-con" in text))
    client = login(MANAGER)
    assert post_form(client, "/procedures/new", NEW_PROCEDURE).status_code == 302
    page = client.get("/versions/1").get_data(as_text=True)
    client.post("/versions/1/restore", data={"csrf": csrf_of(page)})
    assert seen == [(2, True), (3, False)]


def test_a_service_gets_its_own_hours_or_the_centers(settings, login):
    client = login(TECHNICIAN)
    form = {"prefix": "C", "name_vi": "Đất đai – Xây dựng", "name_en": "Land – Construction", "start": "1",
            "end": "999", "pad": "3", "quota": "40"}
    r = post_form(client, "/services/dat-dai", {**form, "weekdays": ["tue", "thu"], "periods": ""})
    assert r.status_code == 422  # days without periods: said, not dropped
    assert "needs at least 1 item" in r.get_data(as_text=True).split('id="field-periods"')[1].split('class="field')[0]
    r = post_form(client, "/services/dat-dai", {**form, "weekdays": ["tue", "thu"], "periods": "07:30-11:00"})
    assert r.status_code == 302
    service = load_config(settings.config_path).service("dat-dai")
    assert service.daily_quota == 40 and service.hours.weekdays == ["tue", "thu"]
    assert post_form(client, "/services/dat-dai", {**form, "periods": ""}).status_code == 302
    assert load_config(settings.config_path).service("dat-dai").hours is None


def test_an_unexpected_error_gets_a_friendly_page_and_changes_nothing(settings, login, monkeypatch):
    client = login(MANAGER)
    before = config_text(settings)

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr("web.versions.History.save", broken)
    r = post_form(client, "/procedures/new", NEW_PROCEDURE)
    assert r.status_code == 500
    page = r.get_data(as_text=True)
    assert "chưa có gì bị thay đổi" in page and "Traceback" not in page and "disk gone" not in page
    assert config_text(settings) == before


def test_saving_an_unchanged_form_makes_no_version_and_one_click_goes_back(settings, login):
    client = login(TECHNICIAN)
    page = client.get("/policy").get_data(as_text=True)
    form = {**tokens_of(page), "policy": "ratio", "ratio_normal": "2", "ageing_bonus_min": "15",
            "max_recalls": "2", "default_service_min": "5"}
    r = client.post("/policy", data=form, follow_redirects=True)
    assert "Nothing changed" in r.get_data(as_text=True)
    assert not (settings.web_dir / "versions").exists()
    r = client.post("/policy", data={**form, "policy": "strict"}, follow_redirects=True)
    assert "Saved as version 2" in r.get_data(as_text=True)
    assert load_config(settings.config_path).queue.policy == "strict"
    listing = client.get("/versions").get_data(as_text=True)
    assert 'action="/versions/1/restore"' in listing and 'action="/versions/2/restore"' not in listing
    client.post("/versions/1/restore", data={"csrf": csrf_of(listing)})
    assert load_config(settings.config_path).queue.policy == "ratio"


def test_deleting_the_last_item_keeps_the_next_sections_heading(settings, login):
    client = login(MANAGER)
    page = client.get("/procedures/nhan-ket-qua").get_data(as_text=True)
    r = client.post("/procedures/nhan-ket-qua/delete", data={"csrf": csrf_of(page)})
    assert r.status_code == 302
    after = config_text(settings)
    assert "nhan-ket-qua" not in after
    assert '# Nút "Không biết chọn gì?" trên kiosk cấp số của lĩnh vực này.' in after
    page = client.get("/procedures/xac-nhan-hoc-phi").get_data(as_text=True)  # F's last, before service K
    client.post("/procedures/to-chuc-le-hoi/delete", data={"csrf": csrf_of(page)})
    assert "\n\n  - id: tra-ket-qua" in config_text(settings)
    with pytest.raises(KeyError):
        load_config(settings.config_path).procedure("nhan-ket-qua")
    # and a procedure added to the now empty service goes before that heading again
    r = post_form(client, "/procedures/new", {**NEW_PROCEDURE, "service": "tra-ket-qua", "id": "nhan-ban-sao"})
    assert r.status_code == 302
    after = config_text(settings)
    assert "    procedures:\n      - id: nhan-ban-sao\n" in after
    assert after.index("- id: nhan-ban-sao") < after.index('# Nút "Không biết chọn gì?"')
    assert load_config(settings.config_path).procedure("nhan-ban-sao")[0].id == "tra-ket-qua"


def test_a_form_opened_before_someone_elses_save_is_not_saved_over_it(settings, login):
    lan, kythuat = login(MANAGER), login(TECHNICIAN)
    officers_page = lan.get("/officers").get_data(as_text=True)  # Lan opens the officers form
    r = kythuat.post("/counters/3/delete", data={"csrf": csrf_of(kythuat.get("/counters/3").get_data(as_text=True))})
    assert r.status_code == 302 and r.location == "/counters"  # meanwhile counter 3 is removed:
    before = config_text(settings)  # the form's "counter-2" is now counter 4
    assert "counter 3" not in before.lower() and "Quầy số 3" not in before
    r = lan.post("/officers", data={**tokens_of(officers_page), "counter-2": "Nguyễn Thị Hoa"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "nothing was saved" in page and "Nguyễn Thị Hoa" in page
    assert config_text(settings) == before
    assert "Quầy số 4 (4)" in page.split('id="field-counter-2"')[1][:200]  # the labels are the file's now
    r = lan.post("/officers", data={**tokens_of(page), "counter-2": "Nguyễn Thị Hoa"})  # checked, saved again
    assert r.status_code == 302
    cfg = load_config(settings.config_path)
    assert cfg.counter("4").officers == ["Nguyễn Thị Hoa"]
    assert cfg.counter("5").officers == ["Ngô Thị Thanh Thủy", "Đỗ Văn Nam"]  # boxes not sent are left alone


def test_a_removed_or_changed_account_takes_effect_at_the_next_request(app, login):
    client = login(TECHNICIAN)
    assert client.get("/devices").status_code == 200
    app.extensions["qms_accounts"].add(TECHNICIAN[0], "manager", TECHNICIAN[1])
    assert client.get("/devices").status_code == 403
    app.extensions["qms_accounts"].remove(TECHNICIAN[0])
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.location


def test_holidays_are_edited_on_the_hours_page_with_field_errors(settings, login):
    client = login(MANAGER)
    page = client.get("/hours").get_data(as_text=True)
    assert 'id="field-holidays"' in page and "Ngày nghỉ lễ" in page and 'id="field-extra_days"' in page
    before = config_text(settings)
    r = post_form(client, "/hours", {"enforce": "on", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                      "periods": "07:30-11:30\n13:30-17:00",
                                      "holidays": "2027-02-30 Tết Nguyên đán\n2027-09-02 Quốc khánh",
                                      "extra_days": "20/02/2027"})
    assert r.status_code == 422
    page = html.unescape(r.get_data(as_text=True))
    box = page.split('id="field-holidays"')[1].split('class="field')[0]
    assert "Không có ngày này trong lịch" in box and 'bad holiday "2027-02-30 Tết Nguyên đán": no such day' in box
    extra = page.split('id="field-extra_days"')[1].split('class="field')[0]
    assert 'Ngày không hợp lệ' in extra and 'bad date "20/02/2027"' in extra
    assert "2027-09-02 Quốc khánh" in page  # what was typed is kept
    assert config_text(settings) == before  # nothing half-valid is saved

    r = post_form(client, "/hours", {"enforce": "on", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                      "periods": "07:30-11:30\n13:30-17:00",
                                      "holidays": "2027-02-05..2027-02-10 Tết Nguyên đán\n2027-09-02 Quốc khánh",
                                      "extra_days": "2027-02-20"})
    assert r.status_code == 302
    cfg = load_config(settings.config_path)
    assert [format_holiday(h) for h in cfg.hours.holidays] == ["2027-02-05..2027-02-10 Tết Nguyên đán",
                                                               "2027-09-02 Quốc khánh"]
    assert [d.isoformat() for d in cfg.hours.extra_days] == ["2027-02-20"]
    assert "2027-02-05..2027-02-10 Tết Nguyên đán" in client.get("/hours").get_data(as_text=True)
    text = config_text(settings)
    assert "# ngày nghỉ lễ / closed dates" in text  # the file's comments are kept


def test_a_config_that_is_a_symlink_stays_one_and_its_target_is_replaced(tmp_path):
    """An installed hub board: /etc/qms/site.yaml links to the data dir, the only place the web unit may write."""
    from web.versions import write_atomic

    target = tmp_path / "data" / "config" / "site.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("a: 1\n")
    target.chmod(0o640)
    link = tmp_path / "etc" / "site.yaml"
    link.parent.mkdir()
    link.symlink_to(target)
    link.parent.chmod(0o555)  # like /etc/qms for the qms user (root, as in CI, could still write there)
    try:
        write_atomic(link, "a: 2\n")
    finally:
        link.parent.chmod(0o755)
    assert link.is_symlink() and link.read_text() == "a: 2\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in link.parent.iterdir()] == ["site.yaml"]
