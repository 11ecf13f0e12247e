"""One SMB2/3 share, read-only: list the files under a folder, read one from a byte offset, read
its extended attributes. Built on smbprotocol's `smbclient`, with a connection cache of its own
per share (never the module-wide one), so two remotes on one host never share a login.

Credentials never live in the catalog: `DAM_REMOTE_<NAME>_USER` / `DAM_REMOTE_<NAME>_PASSWORD`
(NAME upper-cased, anything but letters and digits as `_`), else the user in the URL
(`smb://alice@nas/...`) with the password from the system keyring (service `dam-remote-<name>`)
when the `keyring` package is installed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from pydantic import BaseModel


class RemoteError(RuntimeError):
    """A share could not be used; `kind` says why: auth, unreachable, lost, config, missing."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class SmbUrl(BaseModel):
    host: str
    port: int = 445
    share: str
    path: str = ""  # folder inside the share, '/'-separated, no leading slash
    user: str | None = None

    @property
    def url(self) -> str:
        """The URL as stored and shown: never a password."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port != 445 else ""
        tail = f"/{self.path}" if self.path else ""
        return f"smb://{user}{self.host}{port}/{self.share}{tail}"

    def unc(self, rel: str = "") -> str:
        parts = [p for p in f"{self.path}/{rel}".split("/") if p]
        return "\\\\" + "\\".join([self.host, self.share, *parts])


def parse_url(url: str) -> SmbUrl:
    """`smb://[user@]host[:port]/share[/folder...]`; ValueError says what is wrong."""
    u = urlparse(url)
    if u.scheme != "smb":
        raise ValueError(f"{url!r}: not an smb:// URL (smb://host[:port]/share/folder)")
    if u.password:
        raise ValueError("put the password in DAM_REMOTE_<NAME>_PASSWORD or the keyring, never in the URL")
    if not u.hostname:
        raise ValueError(f"{url!r}: no host")
    try:
        port = u.port or 445
    except ValueError:
        raise ValueError(f"{url!r}: the port is not a number") from None
    parts = [unquote(p) for p in u.path.split("/") if p]
    if not parts:
        raise ValueError(f"{url!r}: no share name (smb://host/share)")
    if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise ValueError(f"{url!r}: '.', '..' and backslashes are not allowed in the path")
    if u.query or u.fragment:
        raise ValueError(f"{url!r}: no query or fragment")
    return SmbUrl(host=u.hostname, port=port, share=parts[0], path="/".join(parts[1:]),
                  user=unquote(u.username) if u.username else None)


def env_prefix(name: str) -> str:
    return "DAM_REMOTE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def credentials(name: str, url: SmbUrl) -> tuple[str, str]:
    """(user, password) for the remote NAME: environment first, then the keyring."""
    prefix = env_prefix(name)
    user = os.environ.get(f"{prefix}_USER") or url.user
    password = os.environ.get(f"{prefix}_PASSWORD")
    if password is None and user:
        try:
            import keyring  # optional: only where the user installed it

            password = keyring.get_password(f"dam-remote-{name}", user)
        except Exception:  # noqa: BLE001 - no keyring package or no backend: fall through
            password = None
    if not user or password is None:
        raise RemoteError("config", f"no credentials for remote {name!r}: set {prefix}_USER and {prefix}_PASSWORD "
                                    f"(or store the password in the keyring as service 'dam-remote-{name}')")
    return user, password


@dataclass
class RemoteEntry:
    rel: str  # '/'-separated path below the remote's folder
    size: int
    mtime_ns: int
    ctime_ns: int  # creation time on the share


def _ns(t) -> int:
    """Nanoseconds, kept to the microsecond: a listing (DirEntry.smb_info) gives datetimes, a
    stat 100-ns FILETIMEs, and both must compare equal for the same file."""
    from datetime import timezone

    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return int(round(t.timestamp() * 1_000_000)) * 1000


def _classify(e: BaseException) -> RemoteError:
    from smbprotocol import exceptions as x

    if isinstance(e, RemoteError):
        return e
    text = str(e) or type(e).__name__
    if isinstance(e, x.LogonFailure):
        return RemoteError("auth", "the server refused the login (STATUS_LOGON_FAILURE: wrong user name or password)")
    if isinstance(e, (x.SMBAuthenticationError, x.AccessDenied)) and not isinstance(e, x.SMBOSError):
        return RemoteError("auth", f"the server refused the login: {text}")
    if isinstance(e, x.BadNetworkName):
        return RemoteError("missing", f"no such share: {text}")
    if isinstance(e, x.SMBConnectionClosed) or isinstance(e, (ConnectionError, TimeoutError)):
        return RemoteError("lost", f"the connection to the server was lost: {text}")
    if isinstance(e, ValueError) and "Failed to connect" in text:
        return RemoteError("unreachable", text)
    if isinstance(e, x.SMBOSError) and e.errno in (2, 20):
        return RemoteError("missing", text)
    if isinstance(e, x.SMBOSError) and e.errno == 13:
        return RemoteError("denied", text)
    return RemoteError("failed", text)


class SmbShare:
    """A logged-in connection to the folder an SmbUrl names."""

    def __init__(self, url: SmbUrl, user: str, password: str, timeout: float = 20.0):
        import smbclient

        self.url = url
        self._cache: dict = {}
        self._kw = {"port": url.port, "connection_cache": self._cache}
        try:
            smbclient.register_session(url.host, username=user, password=password, port=url.port,
                                       connection_cache=self._cache, connection_timeout=int(timeout))
            self._scandir(url.unc())  # the share and the folder exist and may be listed
        except Exception as e:  # noqa: BLE001 - smbprotocol raises many types; sorted by _classify
            self.close()
            raise _classify(e) from None

    def _scandir(self, unc: str):
        import smbclient

        return list(smbclient.scandir(unc, **self._kw))

    def walk(self, keep) -> Iterator[RemoteEntry]:
        """Every file below the folder for which keep(name) is true, in name order; hidden names
        (a leading dot) and folders like `@eaDir`, `#recycle` are skipped."""
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                entries = sorted(self._scandir(self.url.unc(rel_dir)), key=lambda e: e.name)
            except Exception as e:  # noqa: BLE001
                raise _classify(e) from None
            subdirs = []
            for e in entries:
                if e.name.startswith((".", "@", "#", "$")) or e.name.lower() in ("thumbs.db", "desktop.ini"):
                    continue
                rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                info = e.smb_info
                if e.is_dir():
                    subdirs.append(rel)
                elif keep(e.name):
                    yield RemoteEntry(rel=rel, size=int(info.end_of_file), mtime_ns=_ns(info.last_write_time),
                                      ctime_ns=_ns(info.creation_time))
            stack.extend(reversed(subdirs))

    def stat(self, rel: str) -> RemoteEntry:
        import smbclient

        try:
            st = smbclient.stat(self.url.unc(rel), **self._kw)
        except Exception as e:  # noqa: BLE001
            raise _classify(e) from None
        return RemoteEntry(rel=rel, size=st.st_size, mtime_ns=st.st_mtime_ns // 1000 * 1000,
                           ctime_ns=st.st_ctime_ns // 1000 * 1000)

    def read(self, rel: str, offset: int, chunk: int) -> Iterator[bytes]:
        """The file's bytes from offset, chunk by chunk."""
        import smbclient

        try:
            with smbclient.open_file(self.url.unc(rel), mode="rb", share_access="r", **self._kw) as f:
                f.seek(offset)
                while data := f.read(chunk):
                    yield data
        except GeneratorExit:
            raise
        except Exception as e:  # noqa: BLE001
            raise _classify(e) from None

    def read_range(self, rel: str, offset: int, length: int) -> bytes:
        out = bytearray()
        for data in self.read(rel, offset, min(length, 1 << 20)):
            out += data
            if len(out) >= length:
                break
        return bytes(out[:length])

    def xattrs(self, rel: str) -> dict[str, bytes]:
        """The file's extended attributes (SMB EAs), best effort: {} where the server has none."""
        import smbclient

        try:
            names = smbclient.listxattr(self.url.unc(rel), **self._kw)
            return {n: smbclient.getxattr(self.url.unc(rel), n, **self._kw) for n in names}
        except Exception:  # noqa: BLE001 - EAs are best effort
            return {}

    def close(self) -> None:
        import smbclient

        try:
            smbclient.reset_connection_cache(connection_cache=self._cache)
        except Exception:  # noqa: BLE001 - a dead connection is closed already
            pass

