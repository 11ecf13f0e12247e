"""SFTP (paramiko) behind dam.publish.remote.Remote: a partial file is continued by writing at its
size, stat verifies it. The server's host key must already be known (the target's known_hosts
file, else ~/.ssh/known_hosts); an unknown or changed key is refused, never added silently. Auth
uses exactly what the target names: a private key file (the password, if any, is its passphrase)
or the password; no agent, no guessing keys in ~/.ssh. Secrets are never put in a message."""

from __future__ import annotations

import os
from typing import BinaryIO

import paramiko

from dam.publish.remote import PublishError


class SftpRemote:
    def __init__(self, client: paramiko.SSHClient, blocksize: int = 1 << 18):
        self.client, self.blocksize = client, blocksize
        self.sftp = client.open_sftp()

    def size(self, path: str) -> int | None:
        try:
            return self.sftp.stat(path).st_size
        except FileNotFoundError:
            return None

    def mkdir(self, path: str) -> None:
        self.sftp.mkdir(path)

    def send(self, f: BinaryIO, path: str, offset: int) -> None:
        with self.sftp.open(path, "r+b" if offset else "wb") as out:
            out.seek(offset)
            out.set_pipelined(True)  # do not wait for each write's reply
            while chunk := f.read(self.blocksize):
                out.write(chunk)

    def delete(self, path: str) -> None:
        self.sftp.remove(path)

    def rename(self, src: str, dst: str) -> None:
        self.sftp.rename(src, dst)

    def close(self) -> None:
        self.sftp.close()
        self.client.close()


def connect(host: str, port: int, user: str, password: str | None, key_file: str | None,
            known_hosts: str | None, timeout: float) -> SftpRemote:
    client = paramiko.SSHClient()
    if known_hosts:
        try:
            client.load_host_keys(os.path.expanduser(known_hosts))
        except OSError as e:
            raise PublishError(f"cannot read known_hosts file {known_hosts}: {e.strerror}") from None
    else:
        client.load_system_host_keys()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    where = f"sftp://{host}:{port}"
    try:
        client.connect(host, port, username=user, password=None if key_file else password, key_filename=key_file,
                       passphrase=password if key_file else None, timeout=timeout, banner_timeout=timeout,
                       auth_timeout=timeout, allow_agent=False, look_for_keys=False)
        return SftpRemote(client)
    except paramiko.AuthenticationException:
        how = "key " + key_file if key_file else "password"
        error = f"{host}:{port} refused the login for user {user!r} ({how})"
    except paramiko.BadHostKeyException:
        error = f"{where}: host key differs from known_hosts; refusing to connect"
    except paramiko.SSHException as e:
        error = (f"{where}: host key not in {known_hosts or '~/.ssh/known_hosts'}; add it (ssh-keyscan -p {port} "
                 f"{host}) after checking it" if "known_hosts" in str(e) else f"{where}: {str(e)[:200]}")
    except OSError as e:
        error = f"cannot reach {where}: {e}"
    client.close()
    raise PublishError(error)
