"""Publishing to a real FTP server (pyftpdlib) and a real SFTP server (asyncssh), both on
127.0.0.1: curation, dry-run, complete arrival, resume after an interruption, bad credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from dam.config import Settings
from dam.enrich.run import enrich_assets
from dam.library_ops.store import set_rating
from dam.publish.ftp import PublishError
from dam.publish.run import publish
from dam.publish.target import PublishConfigError

PASSWORD = "pw-Xy7-secret"


@pytest.fixture(scope="module")
def ftp_server(tmp_path_factory):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    home = tmp_path_factory.mktemp("ftp-home")
    auth = DummyAuthorizer()
    auth.add_user("alice", PASSWORD, str(home), perm="elradfmwMT")
    handler = type("H", (FTPHandler,), {"authorizer": auth})
    server = FTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, kwargs={"handle_exit": False}, daemon=True)
    t.start()
    yield {"home": home, "port": server.address[1]}
    server.close_all()


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory):
    """asyncssh's SFTP server rooted in a tmp dir, password or key login, in its own thread; it
    records every write (file, offset, bytes) so a test can see what a resume really sent."""
    import asyncio

    import asyncssh

    home, keys = tmp_path_factory.mktemp("sftp-home"), tmp_path_factory.mktemp("sftp-keys")
    host_key, client_key = asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key("ssh-ed25519")
    (keys / "id_ed25519").write_bytes(client_key.export_private_key())
    writes: list[tuple[str, int, int]] = []

    class Login(asyncssh.SSHServer):
        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == "alice" and password == PASSWORD

    class Recording(asyncssh.SFTPServer):
        def __init__(self, chan):
            super().__init__(chan, chroot=str(home).encode())

        def write(self, file_obj, offset, data):
            writes.append((os.path.basename(os.fsdecode(file_obj.name)), offset, len(data)))
            return super().write(file_obj, offset, data)

    async def start():
        return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[host_key], server_factory=Login,
                                     sftp_factory=Recording, authorized_client_keys=asyncssh.import_authorized_keys(
                                         client_key.export_public_key().decode()))

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    port = server.sockets[0].getsockname()[1]
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    (keys / "other_known_hosts").write_text("")  # a client that has never seen this server
    yield {"home": home, "port": port, "key": keys / "id_ed25519", "known_hosts": keys / "known_hosts",
           "writes": writes}
    server.close()
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture(scope="module")
def lib(tmp_path_factory, ftp_server, sftp_server):
    from dam.library import Library

    root = tmp_path_factory.mktemp("pub")
    clips = root / "clips"
    clips.mkdir()
    for name, src in (("red_brick_wall.mp4", "color=c=red:size=320x180:rate=25:duration=2"),
                      ("x.mp4", "testsrc2=size=320x180:rate=25:duration=1")):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-vf", "noise=alls=20:allf=t",
                        "-pix_fmt", "yuv420p", str(clips / name)], check=True)
    targets = {"stock": {"layout": "adobe-stock", "protocol": "ftp", "host": "127.0.0.1", "port": ftp_server["port"],
                         "user": "alice", "path": "/uploads/dam"},
               "sftp": {"layout": "adobe-stock", "protocol": "sftp", "host": "127.0.0.1", "port": sftp_server["port"],
                        "user": "alice", "path": "/uploads/dam", "known_hosts": str(sftp_server["known_hosts"])}}
    targets["proxies"] = {**targets["stock"], "media": "proxy", "path": "/uploads/proxies",
                          "password_env": "DAM_PUBLISH_STOCK_PASSWORD"}
    targets["sftp-new-host"] = {**targets["sftp"], "known_hosts": str(sftp_server["known_hosts"].with_name(
        "other_known_hosts")), "password_env": "DAM_PUBLISH_SFTP_PASSWORD"}
    library = Library(Settings(data_dir=root / "data", publish_targets=targets))
    library.ingest([clips], implicit_root=True, levels="L0")
    enrich_assets(library, library.catalog.assets())
    library.by_name = {a.name: a for a in library.catalog.assets()}
    library.targets = targets
    yield library
    library.close()


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("DAM_PUBLISH_STOCK_PASSWORD", PASSWORD)


def remote(ftp_server, *parts):
    return ftp_server["home"].joinpath("uploads", "dam", *parts)


def test_curation_and_dry_run_send_nothing(lib, ftp_server):
    set_rating(lib.catalog, lib.by_name["x.mp4"].id, None, "reject")
    r = publish(lib, "stock", list(lib.by_name.values()), dry_run=True)  # no password needed to plan
    assert r.dry_run and r.published == [lib.by_name["red_brick_wall.mp4"].id]
    held = {p.message for p in r.held if p.name == "x.mp4"}
    assert "flagged as a reject" in held and any("title" in m and "shorter" in m for m in held)
    assert {u.status for u in r.uploads} == {"planned"} and len(r.uploads) == 3  # media, sidecar, csv
    assert not remote(ftp_server).exists()
    with pytest.raises(PublishConfigError, match="no publish target 'nope'"):
        publish(lib, "nope", [], dry_run=True)


def test_a_target_taking_proxies_gets_h264_for_a_hevc_original(lib, ftp_server, secret, tmp_path):
    from dam.media.probe import probe

    src = tmp_path / "harbour_boats_at_dawn.mov"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
                    "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1",
                    "-pix_fmt", "yuv420p", str(src)], check=True)
    lib.ingest([src], implicit_root=True, levels="L0")
    a = lib.asset(str(src))
    enrich_assets(lib, [a])
    r = publish(lib, "proxies", [a])
    assert r.published == [a.id] and [u.status for u in r.uploads] == ["uploaded"] * 3, (r.held, r.uploads)
    media = r.uploads[0]
    assert media.local.endswith(f"{a.id}.mp4") and media.remote.endswith(".mp4")
    arrived = ftp_server["home"] / media.remote.lstrip("/")
    assert probe(arrived).video.codec == "h264" and arrived.stat().st_size == media.size
    assert publish(lib, "stock", [a], dry_run=True).uploads[0].local == str(src)  # originals by default


def test_upload_arrives_complete_then_skips_and_resumes(lib, ftp_server, secret):
    a = lib.by_name["red_brick_wall.mp4"]
    r = publish(lib, "stock", [a])
    assert not r.dry_run and [u.status for u in r.uploads] == ["uploaded"] * 3, r.uploads
    media = remote(ftp_server, "red_brick_wall.mp4")
    assert media.read_bytes() == open(a.path, "rb").read()
    csv = next(remote(ftp_server).glob("dam-adobe-stock-*.csv")).read_text()
    assert "red_brick_wall.mp4" in csv and "red" in csv.splitlines()[1].split(",", 2)[2]
    assert "<dc:subject>" in remote(ftp_server, "red_brick_wall.xmp").read_text()
    assert not list(remote(ftp_server).glob("*.part"))
    again = publish(lib, "stock", [a])
    assert {u.status for u in again.uploads} == {"skipped"}
    # An interrupted upload: half a .part on the server and no final file.
    data = media.read_bytes()
    media.unlink()
    remote(ftp_server, "red_brick_wall.mp4.part").write_bytes(data[: len(data) // 2])
    resumed = publish(lib, "stock", [a])
    assert resumed.uploads[0].status == "resumed" and media.read_bytes() == data
    assert PASSWORD not in resumed.model_dump_json()


def test_bad_credentials_are_clear_and_change_nothing(lib, ftp_server, monkeypatch):
    a = lib.by_name["red_brick_wall.mp4"]
    before = sorted(p.name for p in ftp_server["home"].rglob("*"))
    monkeypatch.delenv("DAM_PUBLISH_STOCK_PASSWORD", raising=False)
    with pytest.raises(PublishConfigError, match=r"\$DAM_PUBLISH_STOCK_PASSWORD"):
        publish(lib, "stock", [a])
    monkeypatch.setenv("DAM_PUBLISH_STOCK_PASSWORD", "wrong")
    with pytest.raises(PublishError, match="refused the login for user 'alice'") as e:
        publish(lib, "stock", [a])
    assert "wrong" not in str(e.value)
    assert sorted(p.name for p in ftp_server["home"].rglob("*")) == before


def test_cli_publish(lib, ftp_server):
    env = {**os.environ, "DAM_DATA_DIR": str(lib.settings.data_dir), "DAM_PUBLISH_TARGETS": json.dumps(lib.targets),
           "DAM_PUBLISH_STOCK_PASSWORD": "wrong"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "dam.cli", "publish", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, timeout=120)
    r = run("--target", "stock", "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["dry_run"] and "wrong" not in r.stdout
    r = run("--target", "stock")
    assert r.returncode == 1 and "refused the login" in r.stderr and "wrong" not in r.stderr + r.stdout
    assert run("--target", "nope").returncode == 2


@pytest.fixture
def sftp_secret(monkeypatch):
    monkeypatch.setenv("DAM_PUBLISH_SFTP_PASSWORD", PASSWORD)
    monkeypatch.delenv("DAM_PUBLISH_SFTP_KEY", raising=False)


def test_sftp_upload_arrives_complete_then_skips(lib, sftp_server, sftp_secret):
    a = lib.by_name["red_brick_wall.mp4"]
    plan = publish(lib, "sftp", [a], dry_run=True)
    assert plan.destination == f"sftp://alice@127.0.0.1:{sftp_server['port']}/uploads/dam"
    assert not sftp_server["home"].joinpath("uploads").exists()
    r = publish(lib, "sftp", [a])
    assert [u.status for u in r.uploads] == ["uploaded"] * 3, r.uploads
    home = sftp_server["home"] / "uploads" / "dam"
    assert (home / "red_brick_wall.mp4").read_bytes() == open(a.path, "rb").read()
    assert "red_brick_wall.mp4" in next(home.glob("dam-adobe-stock-*.csv")).read_text()
    assert "<dc:subject>" in (home / "red_brick_wall.xmp").read_text() and not list(home.glob("*.part"))
    assert {u.status for u in publish(lib, "sftp", [a]).uploads} == {"skipped"}


def test_sftp_interrupted_upload_sends_only_the_rest(lib, sftp_server, sftp_secret):
    a = lib.by_name["red_brick_wall.mp4"]
    media = sftp_server["home"] / "uploads" / "dam" / "red_brick_wall.mp4"
    data = open(a.path, "rb").read()
    media.parent.mkdir(parents=True, exist_ok=True)
    media.unlink(missing_ok=True)
    half = len(data) // 2
    media.with_name(media.name + ".part").write_bytes(data[:half])
    sftp_server["writes"].clear()
    r = publish(lib, "sftp", [a])
    assert r.uploads[0].status == "resumed" and r.uploads[0].detail == f"resumed at byte {half}"
    sent = [(off, n) for name, off, n in sftp_server["writes"] if name == media.name + ".part"]
    assert min(off for off, _ in sent) == half and sum(n for _, n in sent) == len(data) - half
    assert media.read_bytes() == data and PASSWORD not in r.model_dump_json()


def test_sftp_key_file_login(lib, sftp_server, monkeypatch):
    monkeypatch.delenv("DAM_PUBLISH_SFTP_PASSWORD", raising=False)
    monkeypatch.setenv("DAM_PUBLISH_SFTP_KEY", str(sftp_server["key"]))
    r = publish(lib, "sftp", [lib.by_name["red_brick_wall.mp4"]])
    assert r.uploads and {u.status for u in r.uploads} <= {"skipped", "uploaded"}


def test_sftp_bad_credentials_or_unknown_host_change_nothing(lib, sftp_server, monkeypatch):
    a = lib.by_name["red_brick_wall.mp4"]
    before = sorted((p.name, p.stat().st_size) for p in sftp_server["home"].rglob("*"))
    monkeypatch.delenv("DAM_PUBLISH_SFTP_PASSWORD", raising=False)
    monkeypatch.delenv("DAM_PUBLISH_SFTP_KEY", raising=False)
    with pytest.raises(PublishConfigError, match=r"\$DAM_PUBLISH_SFTP_KEY or the password in \$DAM_PUBLISH_SFTP_PASS"):
        publish(lib, "sftp", [a])
    monkeypatch.setenv("DAM_PUBLISH_SFTP_PASSWORD", "wrong-Zq9")
    with pytest.raises(PublishError, match="refused the login for user 'alice'") as e:
        publish(lib, "sftp", [a])
    assert "wrong-Zq9" not in str(e.value)
    monkeypatch.setenv("DAM_PUBLISH_SFTP_PASSWORD", PASSWORD)  # right password, server's host key not known
    with pytest.raises(PublishError, match="host key not in .*other_known_hosts; add it"):
        publish(lib, "sftp-new-host", [a])
    assert sorted((p.name, p.stat().st_size) for p in sftp_server["home"].rglob("*")) == before
