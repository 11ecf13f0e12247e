"""FTP/FTPS (ftplib) behind dam.publish.remote.Remote: REST continues a partial file, SIZE
verifies it. The password is used for LOGIN and nowhere else."""

from __future__ import annotations

import ftplib
import ssl
from typing import BinaryIO

from dam.publish.remote import PublishError, Upload  # noqa: F401  (re-exported: callers import them here)


class FtpRemote:
    def __init__(self, ftp: ftplib.FTP, blocksize: int = 1 << 16):
        self.ftp, self.blocksize = ftp, blocksize

    def size(self, path: str) -> int | None:
        try:
            return self.ftp.size(path)
        except ftplib.error_perm:
            return None

    def mkdir(self, path: str) -> None:
        self.ftp.mkd(path)

    def send(self, f: BinaryIO, path: str, offset: int) -> None:
        self.ftp.storbinary(f"STOR {path}", f, self.blocksize, rest=offset or None)

    def delete(self, path: str) -> None:
        self.ftp.delete(path)

    def rename(self, src: str, dst: str) -> None:
        self.ftp.rename(src, dst)

    def close(self) -> None:
        try:
            self.ftp.quit()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            self.ftp.close()


def connect(protocol: str, host: str, port: int, user: str, password: str, timeout: float,
            verify: bool = True) -> FtpRemote:
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
    return FtpRemote(ftp)
