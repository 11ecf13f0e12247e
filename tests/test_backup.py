"""Backup and restore against a real ingested library: verified copies, resume, round trip."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import make_settings

from dam.library import Library
from dam.library_ops.backup import MANIFEST, BackupError, backup, read_manifest, verify
from dam.library_ops.restore import restore


@pytest.fixture
def small(media, tmp_path):
    """A library of three files at L0 (no Ray needed), with its own copy of the media."""
    src = tmp_path / "Footage"
    src.mkdir()
    for key in ("shots", "other", "still"):
        shutil.copy2(media[key], src / media[key].name)
    lib = Library(make_settings(tmp_path))
    lib.ingest([src], implicit_root=True, levels="L0")
    yield lib, src
    lib.close()


class Interrupt(Exception):
    pass


class StopAfter:
    def __init__(self, n):
        self.n = n

    def start(self, label, total, unit="files"):
        pass

    def advance(self, amount=1, note=""):
        self.n -= 1
        if self.n == 0:
            raise Interrupt

    def finish(self):
        pass


def test_backup_copies_verifies_and_is_incremental(small, tmp_path):
    lib, src = small
    dest = tmp_path / "backup"
    plan = backup(lib.settings, lib.catalog, dest, dry_run=True)
    assert plan.copied > 3 and not dest.exists()  # a dry run writes nothing
    first = backup(lib.settings, lib.catalog, dest)
    assert first.failed == 0 and first.copied == plan.copied
    copy = dest / "media" / str((src / "shots.mp4").resolve()).lstrip("/")
    assert copy.read_bytes() == (src / "shots.mp4").read_bytes()
    assert os.stat(copy).st_mtime == os.stat(src / "shots.mp4").st_mtime  # timestamps kept
    assert (dest / "data" / "catalog.sqlite").exists() and any((dest / "data" / "chroma").iterdir())
    assert not list(dest.rglob("*.dam-part"))
    second = backup(lib.settings, lib.catalog, dest)
    # Only the SQLite databases may change between runs (the catalog records the backup job).
    assert second.failed == 0 and second.copied <= 2 and second.skipped >= first.copied - 2
    assert verify(dest).ok


def test_verify_catches_a_corrupted_copy_and_the_next_backup_repairs_it(small, tmp_path):
    lib, src = small
    dest = tmp_path / "backup"
    backup(lib.settings, lib.catalog, dest)
    copy = dest / "media" / str((src / "other.mp4").resolve()).lstrip("/")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size and mtime
    st = os.stat(copy)
    copy.write_bytes(bytes(data))
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    report = verify(dest)
    assert [e.path for e in report.errors] == [str(copy.relative_to(dest))]
    assert "hash" in report.errors[0].reason
    again = backup(lib.settings, lib.catalog, dest)
    assert again.failed == 0 and copy.read_bytes() == (src / "other.mp4").read_bytes()
    assert verify(dest).ok


def test_interrupted_backup_resumes_without_recopying(small, tmp_path):
    lib, _ = small
    dest = tmp_path / "backup"
    with pytest.raises(Interrupt):
        backup(lib.settings, lib.catalog, dest, progress=StopAfter(3))
    done = read_manifest(dest)
    assert len(done) == 3
    inodes = {rel: os.stat(dest / rel).st_ino for rel in done}
    resumed = backup(lib.settings, lib.catalog, dest)
    assert resumed.failed == 0
    sqlite_done = sum(1 for rel in done if rel.endswith(".sqlite3") or rel.endswith(".sqlite"))
    assert resumed.skipped >= 3 - sqlite_done
    for rel, ino in inodes.items():
        if not rel.endswith((".sqlite", ".sqlite3")):
            assert os.stat(dest / rel).st_ino == ino, f"{rel} was copied again"
    # The manifest is compacted: one line per file, every one of them verifiable.
    lines = (dest / MANIFEST).read_text().splitlines()
    assert len(lines) == len({json.loads(x)["rel"] for x in lines})
    assert verify(dest).ok


def test_restore_round_trip_answers_the_same_searches(indexed, tmp_path):
    lib, _ = indexed
    dest = tmp_path / "backup"
    assert backup(lib.settings, lib.catalog, dest).failed == 0
    fresh = make_settings(tmp_path / "restored")
    report = restore(fresh, dest)
    assert report.failed == 0 and report.restored > 0
    assert report.skipped == len(read_manifest(dest)) - report.restored  # originals are still in place
    back = Library(fresh)
    try:
        assert back.catalog.counts() == lib.catalog.counts()
        posters = [a.poster for a in back.get_recent(50) if a.poster]
        assert posters and all(p.startswith(str(fresh.root)) and Path(p).is_file() for p in posters)
        poster = next(a.poster for a in lib.get_recent(50) if a.kind == "video" and a.poster)
        from dam.media.photo import read_image

        picture = read_image(Path(poster))[0]
        for kw in ({"text": "shots"}, {"text": "other clip"}, {"image": picture}):
            want = [(h.asset_id, round(h.score, 4)) for h in lib.search(**kw)]
            got = [(h.asset_id, round(h.score, 4)) for h in back.search(**kw)]
            assert want and got == want, kw
    finally:
        back.close()
    with pytest.raises(BackupError, match="already holds a library"):
        restore(fresh, dest)


def test_restore_brings_back_a_lost_original_and_refuses_damaged_copies(small, tmp_path):
    lib, src = small
    dest = tmp_path / "backup"
    backup(lib.settings, lib.catalog, dest)
    original = src / "shots.mp4"
    data, mtime = original.read_bytes(), os.stat(original).st_mtime
    original.unlink()
    damaged = dest / "media" / str((src / "other.mp4").resolve()).lstrip("/")
    (src / "other.mp4").unlink()
    damaged.write_bytes(b"garbage")
    report = restore(make_settings(tmp_path / "r"), dest)
    assert original.read_bytes() == data and os.stat(original).st_mtime == mtime
    assert not (src / "other.mp4").exists()
    assert [e.path for e in report.errors] == [str(damaged.relative_to(dest))]
    assert "damaged" in report.errors[0].reason


def test_backup_root_inside_the_data_dir_is_refused(small):
    lib, _ = small
    with pytest.raises(BackupError, match="must not be inside"):
        backup(lib.settings, lib.catalog, lib.settings.root / "bk")
