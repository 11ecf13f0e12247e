"""Publishing to a real FTP server (pyftpdlib on 127.0.0.1): curation, dry-run, complete
arrival, resume after an interruption, bad credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from dam.config import Settings
from dam.enrich.run import enrich_assets
from dam.library_ops.albums import set_rating
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
def lib(tmp_path_factory, ftp_server):
    from dam.library import Library

    root = tmp_path_factory.mktemp("pub")
    clips = root / "clips"
    clips.mkdir()
    for name, src in (("red_brick_wall.mp4", "color=c=red:size=320x180:rate=25:duration=2"),
                      ("x.mp4", "testsrc2=size=320x180:rate=25:duration=1")):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-vf", "noise=alls=20:allf=t",
                        "-pix_fmt", "yuv420p", str(clips / name)], check=True)
    targets = {"stock": {"layout": "adobe-stock", "protocol": "ftp", "host": "127.0.0.1", "port": ftp_server["port"],
                         "user": "alice", "path": "/uploads/dam"}}
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
