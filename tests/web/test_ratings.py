"""``/api/ratings`` and ``/ratings.csv``: the center's ratings with their dossier codes, from its real store."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from qms.context import AppContext
from tests.factories import local
from tests.web.conftest import MANAGER, TECHNICIAN

T0 = local(2025, 4, 7, 9, 0)
DOSSIER = "H37.22-250407-0012"


@pytest.fixture
def rated(settings) -> list[str]:
    """In the web app's data dir: two rated tickets at counter 1 (the first with a dossier), one on the 9th."""
    ctx = AppContext(config_path=settings.config_path, data_dir=settings.data_dir)
    ids = []
    with ctx.open_store() as store:
        store.run("sign_in", {"counter": "1", "officer": "Nguyễn Thị Lan"}, now=T0)
        for day, dossier, score in ((0, DOSSIER, 4), (0, None, 2), (2, "X-9", 5)):
            at = T0 + timedelta(days=day)
            tid = store.run("issue_ticket", {"service": "tu-phap", "procedure": "khai-sinh"}, now=at)
            ids.append(tid.response["result"]["ticket"]["id"])
            store.run("call_next", {"counter": "1"}, now=at + timedelta(minutes=1))
            if dossier:
                assert store.run("set_dossier", {"counter": "1", "dossier": dossier},
                                 now=at + timedelta(minutes=2)).response["ok"]
            store.run("complete", {"counter": "1"}, now=at + timedelta(minutes=9))
            store.run("rate", {"ticket": ids[-1], "score": score}, now=at + timedelta(minutes=10))
    return ids


def test_the_api_lists_each_rating_with_its_dossier(rated, login):
    client = login(MANAGER)
    r = client.get("/api/ratings?from=2025-04-07&to=2025-04-07")
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["from"] == body["to"] == "2025-04-07"
    assert [x["ticket"] for x in body["ratings"]] == rated[:2]
    first = body["ratings"][0]
    assert first == {"ticket": rated[0], "number": "A001", "day": "2025-04-07", "service": "tu-phap",
                     "procedure": "khai-sinh", "counter": "1", "officer": "Nguyễn Thị Lan", "rating": 4,
                     "dossier": DOSSIER, "finished_at": "2025-04-07T09:09:00+07:00"}
    assert body["ratings"][1]["dossier"] is None
    whole = client.get("/api/ratings?from=2025-04-07&to=2025-04-09").get_json()["ratings"]
    assert [x["dossier"] for x in whole] == [DOSSIER, None, "X-9"]


def test_the_csv_download_has_the_same_rows(rated, login):
    r = login(TECHNICIAN).get("/ratings.csv?from=2025-04-07&to=2025-04-09")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"] and "2025-04-07-2025-04-09" in r.headers["Content-Disposition"]
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(text.lstrip("\ufeff").splitlines()))
    assert [(x["number"], x["rating"], x["dossier"]) for x in rows] == [("A001", "4", DOSSIER), ("A002", "2", ""),
                                                                       ("A001", "5", "X-9")]
    assert rows[0]["officer"] == "Nguyễn Thị Lan"


@pytest.mark.parametrize("query", ["from=2025-13-01", "from=hôm-nay", "from=2025-04-09&to=2025-04-07",
                                   "from=2020-01-01&to=2025-01-01"])
def test_bad_dates_get_a_friendly_400(rated, login, query):
    client = login(MANAGER)
    r = client.get(f"/api/ratings?{query}")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "bad_dates" and "Traceback" not in error["message"]
    assert "YYYY-MM-DD" in error["message"] or "after" in error["message"] or "366" in error["message"]
    page = client.get(f"/ratings.csv?{query}")
    assert page.status_code == 400 and "Traceback" not in page.get_data(as_text=True)


def test_login_is_required_and_no_store_means_no_ratings(app, login):
    assert app.test_client().get("/api/ratings").status_code == 302
    assert app.test_client().get("/ratings.csv").status_code == 302
    r = login(MANAGER).get("/api/ratings?from=2025-04-07&to=2025-04-07")  # no store yet: nothing, not an error
    assert r.status_code == 200 and r.get_json()["ratings"] == []
