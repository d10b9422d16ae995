"""Names of removed services, counters and procedures from the config's version history."""

from __future__ import annotations

from qms.config.history import VERSIONS_DIR, former_names, names_in


def test_names_in_one_version_take_the_vietnamese_text_or_a_plain_string():
    doc = {"services": [{"id": "chung-thuc", "name": {"vi": "Chứng thực", "en": "Certification"},
                         "procedures": [{"id": "ban-sao", "name": "Chứng thực bản sao"}]},
                        {"id": "no-name"}, "not a mapping"],
           "counters": [{"id": 3, "name": {"en": "Counter 3"}}]}
    assert names_in(doc) == {"service": {"chung-thuc": "Chứng thực"}, "counter": {"3": "Counter 3"},
                             "procedure": {"ban-sao": "Chứng thực bản sao"}}
    assert names_in(["a list"]) == {"service": {}, "counter": {}, "procedure": {}}


def test_the_newest_version_naming_an_id_wins_and_a_damaged_one_is_skipped(tmp_path, caplog):
    folder = tmp_path / VERSIONS_DIR
    folder.mkdir(parents=True)
    (folder / "0001.yaml").write_text('services:\n  - {id: b, name: "Cũ"}\n  - {id: c, name: "Chỉ ở bản 1"}\n',
                                      encoding="utf-8")
    (folder / "0002.yaml").write_text('services:\n  - {id: b, name: {vi: "Mới"}}\n', encoding="utf-8")
    (folder / "0010.yaml").write_text("services: [ {id: : }\n", encoding="utf-8")  # damaged
    (folder / "notes.yaml").write_text("services: [{id: x, name: X}]\n", encoding="utf-8")  # not a version
    names = former_names(tmp_path)
    assert names["service"] == {"b": "Mới", "c": "Chỉ ở bản 1"}
    assert "0010.yaml" in caplog.text


def test_no_versions_folder_names_nothing(tmp_path):
    assert former_names(tmp_path / "nowhere") == {"service": {}, "counter": {}, "procedure": {}}
