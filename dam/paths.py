"""Paths come only from configured media roots; nothing outside them is read."""

from __future__ import annotations

import os
from pathlib import Path


class PathNotAllowed(PermissionError):
    pass


def expand(path: str | os.PathLike) -> Path:
    """`~` and `~user` expanded; a path no one could mean is refused, not a crash."""
    if "\x00" in str(path):
        raise PathNotAllowed("path contains a NUL byte")
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~user with no such user
        raise PathNotAllowed(f"{path}: no such user's home folder") from None


def inside_roots(path: str | os.PathLike, roots: list[Path], what: str = "media roots") -> Path:
    """The real path (symlinks resolved) if it lies inside a root; PathNotAllowed otherwise."""
    real = Path(os.path.realpath(expand(path)))
    for root in roots:
        root_real = Path(os.path.realpath(root))
        if real == root_real or root_real in real.parents:
            return real
    raise PathNotAllowed(f"{path} is outside the configured {what} ({', '.join(map(str, roots)) or 'none'})")


def is_hidden_or_system(name: str) -> bool:
    return name.startswith(".") or name in {"$RECYCLE.BIN", "System Volume Information", "@eaDir", "lost+found"} \
        or name.lower() in {"thumbs.db", "desktop.ini"}


def walk_files(root: Path):
    """Every regular, non-hidden file under root; follows directory symlinks once (no loops)."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if is_hidden_or_system(e.name):
                continue
            try:
                if e.is_dir(follow_symlinks=True):
                    stack.append(Path(e.path))
                elif e.is_file(follow_symlinks=True):
                    yield Path(e.path)
            except OSError:
                continue
