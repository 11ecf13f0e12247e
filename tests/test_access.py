"""Who may reach dam and what dam exposes: with a token every route but /healthz and /login
needs it (walked from the app's own OpenAPI, media and derived files included), the login
cookie works for the page's players, Host and Origin are checked (seeded variants), an embedded
Ray listens on loopback only and ends with the `dam serve` that started it, and `--json` stdout
stays JSON while Ray runs."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from conftest import AUTH, TOKEN, free_port

OPEN = {"/healthz", "/login"}
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
UI = ["/", "/static/app.js", "/static/style.css", "/live", "/static/live.js", "/docs", "/openapi.json"]  # outside the schema


@pytest.fixture(scope="module")
def known(server):
    """A real asset and job id for the path parameters."""
    c = server["client"]
    r = c.post("/ingest", json={"paths": ["good/still_bars.jpg"], "levels": "L0"}, headers=AUTH)
    assert r.status_code == 202, r.text
    return {"asset_id": r.json()["assets"][0]["uuid"], "job_id": r.json()["job"], "index": "0", "cam_id": "cam0",
            "name": "app.js"}


def routes(server, known) -> list[tuple[str, str]]:
    schema = server["client"].get("/openapi.json").json()
    out = []
    for template, methods in schema["paths"].items():
        path = template
        for name in [p["name"] for op in methods.values() for p in op.get("parameters", []) if p["in"] == "path"]:
            path = path.replace("{" + name + "}", known[name])
        out += [(method.upper(), path) for method in methods]
    return out


def bare(server) -> httpx.Client:
    return httpx.Client(base_url=server["client"].base_url, timeout=60)


def test_every_route_needs_the_token(server, known):
    walked = routes(server, known) + [("GET", p) for p in UI]
    assert len(walked) >= 40 and ("GET", f"/assets/{known['asset_id']}/media") in walked
    wrong = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Cookie": "dam_session=" + "0" * 64},
             {"Authorization": "Basic " + TOKEN}]
    answered = []
    with bare(server) as c:
        for i, (method, path) in enumerate(walked):
            headers = wrong[i % len(wrong)]
            r = c.request(method, path, headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None)
            if path in OPEN:
                continue
            if path == "/" and r.status_code == 303:  # the page sends a person to the login form
                assert r.headers["location"] == "/login"
                continue
            if r.status_code != 401 or (method != "HEAD" and r.json()["error"] != "unauthorized"):
                answered.append(f"{method} {path} {headers}: {r.status_code}")
        assert c.get("/healthz").json() == {"status": "ok"}
    assert answered == []


def test_login_cookie_lets_the_page_play_media(server, known):
    aid = known["asset_id"]
    with bare(server) as c:
        assert c.get("/login").headers["content-type"].startswith("text/html")
        r = c.post("/login", data={"token": "nope"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized" and "set-cookie" not in r.headers
        form = c.post("/login", data={"token": "nope"}, headers={"Accept": "text/html"})
        assert form.status_code == 303 and form.headers["location"] == "/login?failed=1"
        r = c.post("/login", data={"token": TOKEN}, headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN not in r.headers["set-cookie"]
        assert c.get("/").headers["content-type"].startswith("text/html")  # the client kept the cookie
        part = c.get(f"/assets/{aid}/media", headers={"Range": "bytes=0-9"})
        assert part.status_code == 206 and len(part.content) == 10
        assert c.get(f"/assets/{aid}/poster").status_code in (200, 404)  # a still may have no poster yet
        assert c.get("/jobs").status_code == 200


def _request(c: httpx.Client, method: str, path: str, headers: dict) -> httpx.Response:
    return c.request(method, path, headers=headers, json={} if method == "POST" else None)


def test_seeded_hosts_and_origins(server, known):
    """50 requests from a fixed seed: an unknown Host is refused on every route (DNS rebinding),
    a cross-origin change is refused with a valid token, ours pass both checks. (/login answers
    401 to the empty form; /enrich with no body enriches the whole library.)"""
    port = server["settings"].port
    rng = random.Random(17)
    ours = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "127.0.0.1", f"LOCALHOST:{port}"]
    strangers = ["evil.example", "127.0.0.1.nip.io", "localhost.attacker.test", "dam.lan", "0x7f000001",
                 "attacker.test:80", "[::2]", "localhost@evil.test", "", "127.0.0.1 evil.test"]
    origins = ["http://evil.example", f"http://evil.example:{port}", "null", f"https://localhost.attacker.test:{port}",
               f"http://127.0.0.1:{port + 1}", "file://", f"http://[::1]:{port + 1}", f"ws://127.0.0.1:{port}"]
    walked = [r for r in routes(server, known) if r[0] != "HEAD" and r[1] not in ("/login", "/enrich")]
    failures = []
    with bare(server) as c:
        for _ in range(50):
            method, path = rng.choice(walked)
            case = rng.choice(["bad_host", "cross_origin", "same_origin"])
            host = rng.choice(ours)
            headers = {**AUTH, "Host": host}
            if case == "bad_host":
                headers["Host"] = rng.choice(strangers)
            elif case == "cross_origin":
                method, path = rng.choice([r for r in walked if r[0] == "POST"])
                headers["Origin"] = rng.choice(origins)
            else:
                headers["Origin"] = f"http://{host}"
            r = _request(c, method, path, headers)
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            expected = {"bad_host": (400, "host_not_allowed"), "cross_origin": (403, "cross_origin")}.get(case)
            if expected and (r.status_code, body.get("error")) != expected:
                failures.append(f"{case} {method} {path} {headers}: {r.status_code} {r.text[:120]}")
            if not expected and r.status_code in (400, 401, 403) and body.get("error") in (
                    "host_not_allowed", "cross_origin", "unauthorized"):
                failures.append(f"ours refused: {method} {path} {headers}: {r.status_code} {r.text[:120]}")
    assert failures == []


# --- `dam serve` as the README starts it: Ray listeners and process lifetime ---


def _dam(*args: str, data: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dam.cli", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DAM_DATA_DIR": str(data), **(env or {})}, **kw)


def _start_serve(tmp_path: Path, root: Path, **env: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "dam.cli", "serve", "--port", str(port), "--root", str(root)],
                            env={**os.environ, "DAM_DATA_DIR": str(tmp_path / "data"), **env}, stdout=log, stderr=log)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise AssertionError("dam serve did not answer: " + (tmp_path / "serve.log").read_text())


def _ray_processes(proc: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(proc.pid).children(recursive=True)


def _fd1(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/1")
    except OSError:  # gone, or not ours to read
        return None


def _left(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{pid} {p.name()}")
        except psutil.NoSuchProcess:
            pass
    return out


def _wait_gone(pids: list[int], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while _left(pids) and time.monotonic() < deadline:
        time.sleep(1)
    return _left(pids)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_embedded_ray_is_private_and_ends_with_dam_serve(tmp_path, media, stop):
    root = tmp_path / "Footage"
    root.mkdir()
    proc, port = _start_serve(tmp_path, root)
    try:
        family = _ray_processes(proc)
        names = {p.name() for p in family}
        assert "raylet" in names and "gcs_server" in names, names
        pids = {proc.pid} | {p.pid for p in family}
        listening = [c for c in psutil.net_connections("inet") if c.pid in pids and (c.status == psutil.CONN_LISTEN
                                                                                     or not c.raddr)]
        assert len(listening) >= 6  # GCS, raylet, object manager, agents, workers, the HTTP port
        exposed = [f"{psutil.Process(c.pid).name()} {c.laddr.ip}:{c.laddr.port}" for c in listening
                   if c.laddr.ip not in LOOPBACK]
        assert exposed == []
        assert any(c.laddr.port == port for c in listening)
        # Nothing Ray started writes to dam's stdout (issue 20): their output goes to Ray's log files.
        stdout = os.readlink(f"/proc/{proc.pid}/fd/1")
        sharing = [p.name() for p in family if _fd1(p.pid) == stdout]
        assert sharing == []

        # Without a token the Origin check still holds: a page elsewhere cannot make it scan or upload.
        cross = {"Origin": "http://evil.example"}
        r = httpx.post(f"http://127.0.0.1:{port}/scan", params={"dir": str(root)}, headers=cross)
        assert r.status_code == 403 and r.json()["error"] == "cross_origin"
        r = httpx.post(f"http://127.0.0.1:{port}/upload", files={"files": ("x.jpg", media["still"].read_bytes())},
                       headers=cross)
        assert r.status_code == 403 and not (root / "uploads").exists()
        assert httpx.post(f"http://127.0.0.1:{port}/scan", params={"dir": str(root)}).status_code == 200
    finally:
        family = _ray_processes(proc) if proc.poll() is None else family
        proc.send_signal(stop)
        proc.wait(60)
    # SIGTERM: Ray shuts down with dam. SIGKILL: the kernel ends GCS and raylet (fate-sharing);
    # their agents notice and exit on their own, after their report to the dead GCS times out (60 s).
    assert _wait_gone([p.pid for p in family], 30 if stop == signal.SIGTERM else 150) == []


def test_json_stdout_stays_json_while_ray_runs(tmp_path):
    """`--json` commands that start a local Ray print only JSON on stdout; Ray's own output
    (its relayed errors, its processes' logs) goes to stderr or its log files."""
    from dam.samples import Shot, make_video

    folder = tmp_path / "clips"
    make_video(folder / "walk.mp4", [Shot("sunset", 2), Shot("cells", 2)], size=(320, 180))
    for name, seed in (("cam_a.wav", 1), ("cam_b.wav", 1)):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"anoisesrc=d=8:seed={seed}:a=0.3",
                        "-af", "atrim=start=1.5" if name == "cam_b.wav" else "anull", str(folder / name)], check=True)
    data = tmp_path / "data"
    runs = [_dam("ingest", str(folder / "walk.mp4"), "--json", data=data),
            _dam("sync", str(folder / "cam_a.wav"), str(folder / "cam_b.wav"), "--json", data=data)]
    for r in runs:
        assert r.returncode in (0, 3), r.stderr
        json.loads(r.stdout)  # all of stdout is one JSON document
    assert json.loads(runs[0].stdout)["indexed"] == 1
