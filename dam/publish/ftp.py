"""Upload over FTP/FTPS (ftplib), resumable and verified. Each file goes to `<name>.part`; a
partial `.part` left by an interrupted run is continued from its size (REST), then checked by
SIZE and renamed into place, so the platform never sees half a file. A file already there at
the right size is skipped. The password is used for LOGIN and nowhere else."""

from __future__ import annotations

import ftplib
import posixpath
import ssl
from pathlib import Path
from typing import Literal

from pydantic import BaseModel


class PublishError(RuntimeError):
    pass


class Upload(BaseModel):
    local: str
    remote: str
    size: int
    status: Literal["planned", "uploaded", "resumed", "skipped", "failed"] = "planned"
    detail: str = ""


def connect(protocol: str, host: str, port: int, user: str, password: str, timeout: float,
            verify: bool = True) -> ftplib.FTP:
    """Explicit FTPS (AUTH TLS, protected data channel) checks the server's certificate unless
    the target says tls_verify false (self-signed in-house servers)."""
    if protocol == "ftps":
        ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ftp: ftplib.FTP = ftplib.FTP_TLS(context=ctx, timeout=timeout)
    else:
        ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(host, port)
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.auth()
        ftp.login(user, password)
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.voidcmd("TYPE I")
    except ftplib.error_perm as e:
        ftp.close()
        raise PublishError(f"{host}:{port} refused the login for user {user!r}: {str(e)[:120]}") from None
    except (OSError, EOFError, ftplib.Error) as e:
        ftp.close()
        raise PublishError(f"cannot reach {protocol}://{host}:{port}: {e}") from None
    return ftp


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    try:
        return ftp.size(path)
    except ftplib.error_perm:
        return None


def ensure_dir(ftp: ftplib.FTP, path: str) -> None:
    parts = [p for p in path.split("/") if p]
    cur = "/" if path.startswith("/") else ""
    for p in parts:
        cur = posixpath.join(cur, p)
        try:
            ftp.mkd(cur)
        except ftplib.error_perm:
            pass  # exists (or not allowed: the upload itself will say)


def upload(ftp: ftplib.FTP, u: Upload, blocksize: int = 1 << 16) -> Upload:
    local = Path(u.local)
    if _size(ftp, u.remote) == u.size:
        return u.model_copy(update={"status": "skipped", "detail": "already there, same size"})
    part = u.remote + ".part"
    have = _size(ftp, part) or 0
    if have > u.size:
        ftp.delete(part)
        have = 0
    with local.open("rb") as f:
        f.seek(have)
        ftp.storbinary(f"STOR {part}", f, blocksize, rest=have or None)
    got = _size(ftp, part)
    if got != u.size:
        raise PublishError(f"{u.remote}: {got} bytes arrived, {u.size} sent; run again to resume")
    if _size(ftp, u.remote) is not None:
        ftp.delete(u.remote)
    ftp.rename(part, u.remote)
    return u.model_copy(update={"status": "resumed" if have else "uploaded",
                                "detail": f"resumed at byte {have}" if have else ""})
