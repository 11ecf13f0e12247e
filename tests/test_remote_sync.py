"""`dam remote` and `dam sync-remote` against a real Samba server (smbd) the tests start on a free
loopback port, with its own smb.conf, passdb and state under a temp folder. Every command runs as a
user runs it: `python -m dam.cli ...` with DAM_DATA_DIR, credentials in DAM_REMOTE_<NAME>_*."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from dam.catalog import Catalog
from dam.media.hashing import content_hash
from dam.remote.smb import RemoteEntry, RemoteError, credentials, parse_url
from dam.remote.sync import sync

SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
SMBPASSWD = shutil.which("smbpasswd")
HAVE_SAMBA = bool(os.path.exists(SMBD) and SMBPASSWD and hasattr(os, "geteuid") and os.geteuid() == 0)
USER, PASSWORD = "root", "s3cret-pw"  # smbd maps an SMB user to a Unix account: root exists everywhere


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Samba:
    """One smbd serving [media] = <base>/share on 127.0.0.1:<port>, started and killed by the test."""

    def __init__(self, base: Path):
        self.base, self.port = base, free_port()
        self.share = base / "share"
        for d in ("share", "private", "lock", "state", "cache", "pid", "log"):
            (base / d).mkdir(parents=True, exist_ok=True)
        self.conf = base / "smb.conf"
        self.conf.write_text(f"""[global]
  smb ports = {self.port}
  bind interfaces only = yes
  interfaces = 127.0.0.1
  disable netbios = yes
  server role = standalone server
  private dir = {base}/private
  lock directory = {base}/lock
  state directory = {base}/state
  cache directory = {base}/cache
  pid directory = {base}/pid
  log file = {base}/log/log.%m
  passdb backend = tdbsam:{base}/private/passdb.tdb
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2
  ea support = yes
[media]
  path = {self.share}
  read only = yes
""")
        subprocess.run([SMBPASSWD, "-c", str(self.conf), "-a", "-s", USER], input=f"{PASSWORD}\n{PASSWORD}\n",
                       text=True, check=True, capture_output=True)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([SMBD, "--foreground", "--no-process-group", "--debug-stdout", "-s", str(self.conf)],
                                     stdout=open(self.base / "log" / "stdout", "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.base / "log" / "stdout").read_text()[-2000:]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("smbd did not listen")

    def kill(self) -> None:
        """SIGKILL smbd and the children it forked per connection (only the processes this test started)."""
        if self.proc is None:
            return
        try:
            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            procs = []
        for p in [*procs]:
            try:
                p.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.proc.kill()
        self.proc.wait(10)
        psutil.wait_procs(procs, timeout=10)
        self.proc = None

    def url(self, folder: str) -> str:
        return f"smb://127.0.0.1:{self.port}/media/{folder}"


@pytest.fixture(scope="module")
def samba(tmp_path_factory):
    if not HAVE_SAMBA:
        pytest.skip("needs Samba's smbd and smbpasswd (apt-get install samba; scripts/setup.sh does), run as root")
    server = Samba(tmp_path_factory.mktemp("samba"))
    server.start()
    yield server
    server.kill()


def dam(*args, data: Path, env: dict | None = None, expect: int | None = 0, json_out: bool = True):
    full = {**os.environ, "DAM_DATA_DIR": str(data), "DAM_REMOTE_NAS_USER": USER, "DAM_REMOTE_NAS_PASSWORD": PASSWORD,
            **(env or {})}
    r = subprocess.run([sys.executable, "-m", "dam.cli", *args, *(["--json"] * json_out)], capture_output=True,
                       text=True, env=full, timeout=300)
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"dam {' '.join(args)} exited {r.returncode}, expected {expect}\n{r.stdout}\n{r.stderr}")
    return r


def report(r) -> dict:
    return json.loads(r.stdout)  # --json: nothing but JSON on stdout


def clip(path: Path, seconds: int = 2, pattern: str = "testsrc") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=duration={seconds}:size=160x120:rate=10",
                    "-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", str(path)], check=True)
    return path


def tone(path: Path, seconds: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-ac", "2", str(path)], check=True)
    return path


def library(tmp_path: Path, samba: Samba, folder: str) -> tuple[Path, Path, Path, dict]:
    """(share folder, data dir, local root, env) with the remote `nas` added for smb://.../media/<folder>."""
    remote = samba.share / folder
    remote.mkdir()
    media = tmp_path / "Media"
    media.mkdir()
    data = tmp_path / "data"
    env = {"DAM_MEDIA_ROOTS": str(media)}
    return remote, data, media / "nas", env


def add(samba, folder, data, into, env):
    return report(dam("remote", "add", "nas", samba.url(folder), "--into", str(into), data=data, env=env))


def test_first_sync_pulls_media_sidecars_and_times_then_nothing_changes(samba, tmp_path):
    remote, data, into, env = library(tmp_path, samba, "first")
    nested = remote / "Day 1" / "Prise de vue ü"
    made = time.time()
    clip(nested / "clip été 1.mp4")  # names no date of its own
    (nested / "clip été 1.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rating>4</rating></x:xmpmeta>\n')
    clip(remote / "wide shot.mp4", pattern="testsrc2")
    (remote / "notes.txt").write_text("not media: stays on the share\n")
    (remote / ".hidden.mp4").write_bytes(b"x")
    os.utime(remote / "wide shot.mp4", ns=(1_500_000_000_123_456_789, 1_500_000_000_123_456_789))
    os.setxattr(remote / "wide shot.mp4", "user.dam.camera", b"A-cam")

    row = add(samba, "first", data, into, env)
    assert row["url"] == samba.url("first") and row["into"] == str(into)
    listed = report(dam("remote", "list", data=data, env=env))
    assert [r["name"] for r in listed] == ["nas"]

    time.sleep(1.5)  # the copies are made later than the share's files
    t0, pulled_at = time.monotonic(), time.time()
    first = report(dam("sync-remote", "nas", data=data, env=env))
    print(f"first sync {time.monotonic() - t0:.1f}s")
    pulled = sorted(i["path"] for i in first["items"] if i["status"] == "pulled")
    assert pulled == ["Day 1/Prise de vue ü/clip été 1.mp4", "Day 1/Prise de vue ü/clip été 1.xmp", "wide shot.mp4"]
    assert first["failed"] == 0 and first["registered"] == 2  # two videos are assets now; the sidecar is not media
    assert first["bytes_pulled"] == sum((remote / rel).stat().st_size for rel in pulled)
    for rel in pulled:
        src, dst = remote / rel, into / rel
        assert content_hash(dst) == content_hash(src)
        assert dst.stat().st_mtime_ns // 1000 == src.stat().st_mtime_ns // 1000  # SMB keeps 100-ns; we keep µs
    assert (into / "wide shot.mp4").stat().st_mtime_ns == 1_500_000_000_123_456_000
    assert os.getxattr(into / "wide shot.mp4", "user.dam.camera") == b"A-cam" and first["xattrs"] >= 1
    assert not (into / "notes.txt").exists() and not (into / ".hidden.mp4").exists()
    assert not list(into.rglob("*.part"))
    info = report(dam("info", str(into / "wide shot.mp4"), data=data, env=env))
    assert info["content_hash"] == content_hash(remote / "wide shot.mp4")
    # The share's creation time travels as user.dam.created and dates an asset whose file names no date.
    copy = into / "Day 1" / "Prise de vue ü" / "clip été 1.mp4"
    created = datetime.fromisoformat(os.getxattr(copy, "user.dam.created").decode())
    assert made - 1 < created.timestamp() < pulled_at, (made, created, pulled_at)
    info = report(dam("info", str(copy), data=data, env=env))
    assert datetime.fromisoformat(info["info"]["creation_time"]) == created

    second = report(dam("sync-remote", "nas", data=data, env=env))
    assert (second["pulled"], second["unchanged"], second["items"]) == (0, 3, [])

    # The password is nowhere in the catalog; the remote goes, the pulled files stay.
    db = sqlite3.connect(data / "catalog.sqlite")
    dump = "\n".join(db.iterdump())
    db.close()
    assert PASSWORD not in dump and samba.url("first") in dump
    dam("remote", "remove", "nas", data=data, env=env)
    assert report(dam("remote", "list", data=data, env=env)) == []
    assert (into / "wide shot.mp4").exists()
    r = dam("sync-remote", "nas", data=data, env=env, expect=4)
    assert report(r)["error"] == "no_such_remote"


def test_changed_file_is_pulled_again_and_nothing_is_deleted_without_delete(samba, tmp_path):
    remote, data, into, env = library(tmp_path, samba, "changes")
    clip(remote / "a.mp4")
    clip(remote / "b.mp4", pattern="testsrc2")
    (remote / "a.xmp").write_text("<rating>1</rating>\n")
    (remote / "c.xmp").write_text("<rating>2</rating>\n")
    into.mkdir()
    (into / "d.xmp").write_text("mine, not the share's\n")  # a local file dam did not put there
    (remote / "d.xmp").write_text("<rating>3</rating>\n")
    add(samba, "changes", data, into, env)
    first = report(dam("sync-remote", "nas", data=data, env=env, expect=3))  # 3: one file left alone
    assert [(i["path"], i["status"]) for i in first["items"] if i["status"] != "pulled"] == [("d.xmp", "conflict")]
    assert (into / "d.xmp").read_text() == "mine, not the share's\n"

    later = time.time() + 5
    (remote / "a.xmp").write_text("<rating>5</rating>\n")  # edited in Lightroom on another machine
    os.utime(remote / "a.xmp", (later, later))
    (remote / "c.xmp").write_text("<rating>0</rating>\n")  # edited there...
    os.utime(remote / "c.xmp", (later, later))
    (into / "c.xmp").write_text("<rating>4</rating> edited here\n")  # ...and here
    (remote / "b.mp4").unlink()
    again = report(dam("sync-remote", "nas", data=data, env=env, expect=3))
    by = {i["path"]: i for i in again["items"]}
    assert by["a.xmp"]["status"] == "pulled" and (into / "a.xmp").read_text() == "<rating>5</rating>\n"
    assert by["b.mp4"]["status"] == "kept" and (into / "b.mp4").exists()
    assert by["c.xmp"]["status"] == "conflict" and "edited here" in (into / "c.xmp").read_text()
    assert (again["pulled"], again["kept"], again["conflict"], again["deleted"], again["unchanged"]) == (1, 1, 2, 0, 1)

    gone = report(dam("sync-remote", "nas", "--delete", data=data, env=env, expect=3))
    assert gone["deleted"] == 1 and not (into / "b.mp4").exists() and (into / "a.mp4").exists()
    assert "edited here" in (into / "c.xmp").read_text() and (into / "d.xmp").exists()


def test_a_file_renamed_on_the_share_stays_the_same_asset_with_its_rating(samba, tmp_path):
    remote, data, into, env = library(tmp_path, samba, "renames")
    clip(remote / "take 1.mp4")
    (remote / "take 1.xmp").write_text("<x/>\n")
    add(samba, "renames", data, into, env)
    dam("sync-remote", "nas", data=data, env=env)
    rated = report(dam("rate", str(into / "take 1.mp4"), "--stars", "4", "--pick", data=data, env=env))

    (remote / "Selects").mkdir()
    (remote / "take 1.mp4").rename(remote / "Selects" / "hero take.mp4")
    (remote / "take 1.xmp").rename(remote / "Selects" / "hero take.xmp")
    r = report(dam("sync-remote", "nas", data=data, env=env))
    by = {i["path"]: i["status"] for i in r["items"]}
    assert by == {"Selects/hero take.mp4": "renamed", "Selects/hero take.xmp": "renamed",
                  "take 1.mp4": "kept", "take 1.xmp": "kept"}
    assert r["bytes_pulled"] == 0 and (into / "take 1.mp4").exists()  # linked here, not pulled again; old name kept

    r = report(dam("sync-remote", "nas", "--delete", data=data, env=env))
    assert r["deleted"] == 2 and not (into / "take 1.mp4").exists()
    # Only the new name is left: the catalog still knows it as the asset that was rated.
    after = report(dam("info", str(into / "Selects" / "hero take.mp4"), data=data, env=env))
    assert after["id"] == rated["asset_id"] and (after["rating"], after["flag"]) == (4, "pick")
    assert after["path"] == str(into / "Selects" / "hero take.mp4")


def test_server_killed_mid_transfer_keeps_the_part_and_the_rerun_resumes(samba, tmp_path):
    remote, data, into, env = library(tmp_path, samba, "resume")
    big = tone(remote / "interview.wav", 40)  # 7.7 MB of PCM
    size = big.stat().st_size
    add(samba, "resume", data, into, env)
    part = into / "interview.wav.part"
    full = {**os.environ, "DAM_DATA_DIR": str(data), "DAM_REMOTE_NAS_USER": USER, "DAM_REMOTE_NAS_PASSWORD": PASSWORD, **env}
    # --bwlimit 1 (MB/s): the copy would take ~8 s; the plug is pulled once 1.5 MB arrived
    proc = subprocess.Popen([sys.executable, "-m", "dam.cli", "sync-remote", "nas", "--bwlimit", "1", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full)
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 1_500_000):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    samba.kill()
    try:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1, (stdout, stderr)
        failure = json.loads(stdout)
        assert failure["error"] in ("remote_lost", "remote_unreachable"), failure
        assert "run the same command again to resume" in failure["detail"] and "interview.wav" in failure["detail"]
        kept = part.stat().st_size
        assert 1_500_000 < kept < size and not (into / "interview.wav").exists()
        r = dam("sync-remote", "nas", data=data, env=env, expect=1, json_out=False)  # still down: said in words
        assert "error" in r.stderr and r.stdout == ""
    finally:
        samba.start()
    done = report(dam("sync-remote", "nas", data=data, env=env))
    assert [(i["path"], i["status"]) for i in done["items"]] == [("interview.wav", "resumed")]
    assert done["items"][0]["detail"] == f"resumed at byte {kept:,}" and done["bytes_pulled"] == size - kept
    assert content_hash(into / "interview.wav") == content_hash(big) and not part.exists()


def test_wrong_password_outside_roots_and_bad_urls_are_refused(samba, tmp_path):
    remote, data, into, env = library(tmp_path, samba, "refusals")
    clip(remote / "a.mp4")
    add(samba, "refusals", data, into, env)

    r = dam("sync-remote", "nas", data=data, env={**env, "DAM_REMOTE_NAS_PASSWORD": "Bad-Pw-42"}, expect=5)
    assert report(r)["error"] == "auth_failed" and "Bad-Pw-42" not in r.stdout + r.stderr
    r = dam("sync-remote", "nas", data=data, env={**env, "DAM_REMOTE_NAS_PASSWORD": "Bad-Pw-42"}, expect=5, json_out=False)
    assert "login refused" in r.stderr and "DAM_REMOTE_NAS_PASSWORD" in r.stderr
    r = dam("sync-remote", "nas", data=data, env={**env, "DAM_REMOTE_NAS_USER": "", "DAM_REMOTE_NAS_PASSWORD": ""},
            expect=2)
    assert report(r)["error"] == "no_credentials"
    assert not into.exists()  # a refused sync leaves no trace

    outside = tmp_path / "Elsewhere"
    r = dam("sync-remote", "nas", "--into", str(outside), data=data, env=env, expect=1)
    assert report(r)["error"] == "path_not_allowed" and not outside.exists()
    r = dam("remote", "add", "other", samba.url("refusals"), "--into", str(outside), data=data, env=env, expect=1)
    assert report(r)["error"] == "path_not_allowed"
    r = dam("remote", "add", "other", f"smb://{USER}:{PASSWORD}@127.0.0.1/media", data=data, env=env, expect=2)
    assert report(r)["error"] == "bad_remote_url" and PASSWORD not in r.stdout
    r = dam("remote", "add", "other", "smb://127.0.0.1/media/../etc", data=data, env=env, expect=2)
    assert report(r)["error"] == "bad_remote_url"
    r = dam("remote", "add", "nas", samba.url("refusals"), data=data, env=env, expect=1)
    assert report(r)["error"] == "remote_exists"
    dam("remote", "add", "missing", samba.url("no such folder"), data=data, env=env)
    r = dam("sync-remote", "missing", data=data, env={**env, "DAM_REMOTE_MISSING_USER": USER,
                                                        "DAM_REMOTE_MISSING_PASSWORD": PASSWORD}, expect=4)
    assert report(r)["error"] == "remote_path_missing"
    r = report(dam("ingest", samba.url("refusals"), "--levels", "L0", data=data, env=env, expect=3))
    assert "dam sync-remote NAME --ingest" in r["errors"][0]["reason"]  # ingest points at the way in
    assert not list(into.rglob("*.mp4"))  # nothing pulled by any refused command


# --- without a server: the URL, the credentials, and a .part that is not a prefix of the file ---


def test_urls_and_credentials():
    u = parse_url("smb://alice@nas.local:1445/Projects/2026/Día%201")
    assert (u.host, u.port, u.share, u.path, u.user) == ("nas.local", 1445, "Projects", "2026/Día 1", "alice")
    assert u.unc("A/b.mp4") == "\\\\nas.local\\Projects\\2026\\Día 1\\A\\b.mp4"
    assert parse_url("smb://nas/share").url == "smb://nas/share"
    for bad in ("ftp://nas/share", "smb://nas", "smb://u:pw@nas/share", "smb://nas/share/../x", "smb:///share"):
        with pytest.raises(ValueError):
            parse_url(bad)
    env = {"DAM_REMOTE_STUDIO_NAS_USER": "bob", "DAM_REMOTE_STUDIO_NAS_PASSWORD": "pw"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert credentials("studio-nas", u) == ("bob", "pw")
        mp.delenv("DAM_REMOTE_STUDIO_NAS_PASSWORD")
        with pytest.raises(RemoteError) as e:
            credentials("studio-nas", u)
        assert e.value.kind == "config" and "DAM_REMOTE_STUDIO_NAS_PASSWORD" in str(e.value)


class FakeShare:
    """The Share protocol over a dict: what a sync does with the bytes, without SMB."""

    def __init__(self, files: dict[str, bytes], mtime_ns: int = 1_700_000_000_000_000_000):
        self.files, self.mtime_ns, self.reads = files, mtime_ns, 0

    def walk(self, keep):
        for rel in sorted(self.files):
            if keep(rel.rsplit("/", 1)[-1]):
                yield self.stat(rel)

    def stat(self, rel):
        return RemoteEntry(rel=rel, size=len(self.files[rel]), mtime_ns=self.mtime_ns, ctime_ns=self.mtime_ns)

    def read(self, rel, offset, chunk):
        data = self.files[rel]
        for i in range(offset, len(data), chunk):
            self.reads += min(chunk, len(data) - i)
            yield data[i:i + chunk]

    def read_range(self, rel, offset, length):
        return self.files[rel][offset:offset + length]

    def xattrs(self, rel):
        return {}


def test_a_part_that_is_not_a_prefix_of_the_file_starts_over(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    body = os.urandom(3_000_000)
    share, into = FakeShare({"a.mov": body}), tmp_path / "root"
    into.mkdir()
    # A run that stopped after 2 MB: the row says which file the .part belongs to.
    from dam.remote import store
    store.add(catalog, "fake", "smb://fake/share", str(into))
    store.put(catalog, "fake", store.PulledRow(rel="a.mov", size=len(body), mtime_ns=share.mtime_ns,
                                               local=str(into / "a.mov"), state="partial"))
    (into / "a.mov.part").write_bytes(body[:2_000_000])
    report, _ = sync(share, catalog, "fake", "smb://fake/share", into)
    assert (report.resumed, report.bytes_pulled) == (1, 1_000_000) and (into / "a.mov").read_bytes() == body

    # Same again, but the .part's bytes are not the file's (another file, a disk error): from byte 0.
    (into / "a.mov").unlink()
    store.put(catalog, "fake", store.PulledRow(rel="a.mov", size=len(body), mtime_ns=share.mtime_ns,
                                               local=str(into / "a.mov"), state="partial"))
    (into / "a.mov.part").write_bytes(os.urandom(2_000_000))
    report, _ = sync(share, catalog, "fake", "smb://fake/share", into)
    assert (report.pulled, report.resumed, report.bytes_pulled) == (1, 0, len(body))
    assert (into / "a.mov").read_bytes() == body and not (into / "a.mov.part").exists()
    assert os.stat(into / "a.mov").st_mtime_ns == share.mtime_ns


def test_a_copy_that_reads_back_differently_is_not_kept(tmp_path, monkeypatch):
    import dam.remote.sync as sync_mod

    catalog = Catalog(tmp_path / "catalog.sqlite")
    share, into = FakeShare({"b.mov": os.urandom(100_000)}), tmp_path / "root"
    into.mkdir()
    from dam.remote import store
    store.add(catalog, "fake", "smb://fake/share", str(into))
    monkeypatch.setattr(sync_mod, "content_hash", lambda path: "0" * 32)  # as if the disk returned other bytes
    report, _ = sync(share, catalog, "fake", "smb://fake/share", into)
    assert report.failed == 1 and "differs from the bytes received" in report.items[0].detail
    assert [p.name for p in into.iterdir()] == [".dam-sync-fake.lock"]  # neither the file nor its .part
