"""Auto-backup names sort by time, also when --keep deletes backups made in the same second."""

from __future__ import annotations

from datetime import datetime

from qms.backup import auto_backup_name


def test_names_in_one_second_keep_growing_after_the_oldest_are_deleted(tmp_path):
    now = datetime(2026, 12, 1, 18, 38, 40)
    made = []
    for _ in range(6):
        path = auto_backup_name(tmp_path, now)
        path.write_bytes(b"")
        made.append(path.name)
        for old in sorted(tmp_path.glob("queue-*.sqlite3"))[:-3]:  # what --keep 3 does
            old.unlink()
    assert made == ["queue-2026-12-01T183840.sqlite3"] + [f"queue-2026-12-01T183840_{n:02d}.sqlite3" for n in range(2, 7)]
    assert sorted(p.name for p in tmp_path.glob("queue-*.sqlite3")) == made[-3:]


def test_a_new_second_starts_without_a_suffix(tmp_path):
    auto_backup_name(tmp_path, datetime(2026, 12, 1, 8, 0, 0)).write_bytes(b"")
    assert auto_backup_name(tmp_path, datetime(2026, 12, 1, 8, 0, 1)).name == "queue-2026-12-01T080001.sqlite3"
