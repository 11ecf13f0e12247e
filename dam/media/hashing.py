"""Content identity: the same bytes anywhere in the library are the same asset."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_CHUNK = 4 << 20


def content_hash(path: Path) -> str:
    """BLAKE2b-128 of the whole file, streamed in 4 MiB chunks (bounded memory, ~1 GB/s)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def asset_id(digest: str) -> str:
    return digest[:16]


def stat_key(path: Path) -> tuple[int, float]:
    """Size and mtime: the cheap check that lets a re-scan skip hashing unchanged files."""
    st = os.stat(path)
    return st.st_size, st.st_mtime
