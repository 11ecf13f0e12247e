"""Scan: media recognised by content, hidden and system files ignored, loops survived,
unchanged files not re-read, vanished files noticed without forgetting the library."""

import os
import shutil
from pathlib import Path

import pytest

from dam.catalog import Catalog
from dam.library import MediaIndexer
from dam.scan import scan


@pytest.fixture
def folder(media, tmp_path) -> Path:
    root = tmp_path / "Footage"
    (root / "day1").mkdir(parents=True)
    shutil.copy(media["shots"], root / "day1" / "A001.mp4")
    shutil.copy(media["other"], root / "day1" / "A002.dat")  # a video with a wrong extension
    shutil.copy(media["still"], root / "cover.jpg")
    (root / "notes.mp4").write_text("not a video")
    (root / ".hidden.mp4").write_bytes(media["shots"].read_bytes())
    (root / ".Trashes").mkdir()
    shutil.copy(media["other"], root / ".Trashes" / "deleted.mp4")
    (root / "day1" / "loop").symlink_to(root)  # a symlink loop must not hang the walk
    return root


def test_scan_registers_media_by_content(folder, tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    report = scan(cat, folder)
    assert (report.new, report.skipped, report.errors) == (3, 1, [])
    kinds = sorted(a.kind for a in cat.assets())
    assert kinds == ["image", "video", "video"]
    assert not any(".hidden" in a.path or ".Trashes" in a.path for a in cat.assets())


def test_rescan_of_unchanged_library_reads_nothing(folder, tmp_path, monkeypatch):
    cat = Catalog(tmp_path / "c.sqlite")
    scan(cat, folder)
    import dam.scan as scan_module

    def no_hashing(_):
        raise AssertionError("an unchanged file was hashed again")

    monkeypatch.setattr(scan_module, "content_hash", no_hashing)
    report = scan(cat, folder)
    assert (report.unchanged, report.new, report.changed) == (3, 0, 0)


def test_changed_and_removed_files(folder, media, tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    scan(cat, folder)
    before = cat.asset(str(folder / "day1" / "A001.mp4"))
    shutil.copy(media["copy"], folder / "day1" / "A001.mp4")
    os.remove(folder / "cover.jpg")
    report = scan(cat, folder)
    assert (report.changed, report.removed) == (1, 1)
    after = cat.asset(str(folder / "day1" / "A001.mp4"))
    assert after.id != before.id
    assert [a.status for a in cat.assets() if a.kind == "image"] == ["missing"]


def test_missing_root_is_an_error_not_an_empty_library(folder, tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    scan(cat, folder)
    with pytest.raises(NotADirectoryError):
        scan(cat, tmp_path / "unplugged")
    assert len(cat.assets()) == 3


def test_seed_python_api(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("DAM_DATA_DIR", str(tmp_path / "data"))
    idx = MediaIndexer()
    assert idx.scan(folder).new == 3
    assert {a.name for a in idx.get_recent()} == {"A001.mp4", "A002.dat", "cover.jpg"}
    assert idx.search("A002")[0].path.endswith("A002.dat")
