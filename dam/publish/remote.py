"""The few calls an uploader needs from a remote end, and the one upload routine over them, so
FTP/FTPS and SFTP share resume, verification and reporting. Each file goes to `<name>.part`; a
partial `.part` left by an interrupted run is continued from its size, then checked by size and
renamed into place, so the platform never sees half a file. A file already there at the right
size is skipped."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from pydantic import BaseModel


class PublishError(RuntimeError):
    pass


class Upload(BaseModel):
    local: str
    remote: str
    size: int
    status: Literal["planned", "uploaded", "resumed", "skipped", "failed"] = "planned"
    detail: str = ""


class Remote(Protocol):
    """One logged-in connection (dam.publish.ftp.FtpRemote, dam.publish.sftp.SftpRemote)."""

    def size(self, path: str) -> int | None:
        """Bytes in the file, None when there is no such file."""

    def mkdir(self, path: str) -> None:
        """Create one folder; an error (it exists, not allowed) is the caller's to ignore."""

    def send(self, f: BinaryIO, path: str, offset: int) -> None:
        """Write the rest of f into path starting at offset (0: create or truncate)."""

    def delete(self, path: str) -> None: ...

    def rename(self, src: str, dst: str) -> None: ...

    def close(self) -> None: ...


def ensure_dir(remote: Remote, path: str) -> None:
    cur = "/" if path.startswith("/") else ""
    for p in (p for p in path.split("/") if p):
        cur = posixpath.join(cur, p)
        try:
            remote.mkdir(cur)
        except Exception:  # noqa: BLE001 - exists, or not allowed: the upload itself will say
            pass


def upload(remote: Remote, u: Upload) -> Upload:
    if remote.size(u.remote) == u.size:
        return u.model_copy(update={"status": "skipped", "detail": "already there, same size"})
    part = u.remote + ".part"
    have = remote.size(part) or 0
    if have > u.size:  # not a prefix of this file: start over
        remote.delete(part)
        have = 0
    with Path(u.local).open("rb") as f:
        f.seek(have)
        remote.send(f, part, have)
    got = remote.size(part)
    if got != u.size:
        raise PublishError(f"{u.remote}: {got} bytes arrived, {u.size} sent; run again to resume")
    if remote.size(u.remote) is not None:
        remote.delete(u.remote)
    remote.rename(part, u.remote)
    return u.model_copy(update={"status": "resumed" if have else "uploaded",
                                "detail": f"resumed at byte {have}" if have else ""})
