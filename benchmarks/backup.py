"""Backup speed against a plain copy of the same files in the same run.

reference: shutil.copy2 of every original, then fsync (a durable plain copy: no read-back, no hash).
(plain_copy_mb_s: the same without fsync, i.e. into the page cache only; informative, very noisy.)
full: `dam backup` into an empty root (copy, fsync, read back, hash both sides, manifest).
incremental: the same backup again with nothing changed (one stat per file).
ratio = reference seconds / full seconds (1.0: as fast as a plain copy)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from dam.catalog import Catalog
from dam.config import Settings
from dam.library_ops.backup import backup, verify

FILES, MB = 24, 16


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="dam-bench-backup-") as tmp:
        tmp = Path(tmp)
        media = tmp / "media"
        media.mkdir()
        block = os.urandom(1 << 20)
        for i in range(FILES):
            with open(media / f"clip{i:03d}.mov", "wb") as f:
                for k in range(MB):
                    f.write(block[k:] + block[:k])  # distinct content per MiB
        settings = Settings(data_dir=tmp / "data")
        cat = Catalog(settings.catalog_path)
        for p in sorted(media.iterdir()):
            st = p.stat()
            cat.put_file(str(p), st.st_size, st.st_mtime, p.stem, "video")
        total_mb = FILES * MB
        t0 = time.perf_counter()
        plain = tmp / "plain"
        plain.mkdir()
        for p in sorted(media.iterdir()):
            shutil.copy2(p, plain / p.name)
        plain_s = time.perf_counter() - t0
        shutil.rmtree(plain)
        t0 = time.perf_counter()
        ref = tmp / "ref"
        ref.mkdir()
        for p in sorted(media.iterdir()):
            shutil.copy2(p, ref / p.name)
            with open(ref / p.name, "rb+") as f:
                os.fsync(f.fileno())
        reference = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = backup(settings, cat, tmp / "backup")
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = backup(settings, cat, tmp / "backup")
        incremental = time.perf_counter() - t0
        t0 = time.perf_counter()
        checked = verify(tmp / "backup")
        verify_s = time.perf_counter() - t0
        cat.close()
    assert first.failed == 0 and checked.ok and again.skipped >= FILES
    return {
        "files": FILES, "megabytes": total_mb,
        "plain_copy_mb_s": round(total_mb / plain_s, 1),
        "reference_copy_mb_s": round(total_mb / reference, 1),
        "backup_mb_s": round(total_mb / full, 1),
        "ratio": round(reference / full, 3),
        "incremental_seconds": round(incremental, 3),
        "incremental_fraction_of_full": round(incremental / full, 4),
        "verify_mb_s": round(total_mb / verify_s, 1),
    }


if __name__ == "__main__":
    print(run())
