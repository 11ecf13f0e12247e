"""`dam serve` as the README starts it, with a file-backed camera: the camera runs (`/cameras`),
every overlay streams a frame, the live page plays it over WebRTC in headless Chromium, motion
records a clip, the clip is ingested, found by search and served as media; Ctrl-C stops it all
and leaves no Ray process behind.

No fixture stands in for the program here: the server is the `dam` command in its own process
group with its own local Ray, spoken to over HTTP only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
from conftest import free_port
from test_live import CHROMIUM, PINK, chromium, palette_share, plays_over_webrtc

DAM = [sys.executable, "-m", "dam.cli"]
OVERLAYS = ("zebra", "false_colour", "peaking", "none")


def until(fn, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"dam serve exited ({proc.returncode}) while waiting for {what}")
        try:
            out = fn()
        except httpx.HTTPError:
            out = None
        if out:
            return out
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def first_jpeg(body: bytes) -> np.ndarray:
    import cv2

    start = body.index(b"\xff\xd8")
    end = body.index(b"\xff\xd9", start) + 2
    img = cv2.imdecode(np.frombuffer(body[start:end], np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "the MJPEG part is not a JPEG"
    return img


def test_dam_serve_with_a_file_camera(motion_media, tmp_path):
    root = tmp_path / "Footage"
    root.mkdir()
    yard = root / "yard.mp4"
    shutil.copy(motion_media["objects"], yard)  # objects cross at 2-5 s and 8-10.5 s, looped
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAM_", "RAY_ADDRESS"))}
    env.update(DAM_DATA_DIR=str(tmp_path / "dam-data"), DAM_PORT=str(port), DAM_CAMERA_SOURCES="yard.mp4",
               # short rolls so a clip ends between two crossings; L0 so ingest is quick on 2 cores
               DAM_CAMERA_PRE_ROLL="0.5", DAM_CAMERA_POST_ROLL="0.5", DAM_CAMERA_INGEST_LEVELS="L0")
    log = (tmp_path / "serve.log").open("wb")
    # The README: `DAM_CAMERA_SOURCES=yard.mp4 dam serve` in the media folder (the default root is `.`).
    proc = subprocess.Popen([*DAM, "serve"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    ray_procs: list[psutil.Process] = []
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        until(lambda: c.get("/healthz").status_code == 200, 240, "/healthz", proc)
        cam = until(lambda: next((x for x in c.get("/cameras").json() if x["id"] == "yard" and x["frames"] > 0), None),
                    120, "the camera to run", proc)
        assert cam["state"] == "running" and cam["kind"] == "file" and cam["node"]

        for overlay in OVERLAYS:
            r = c.get("/cameras/yard/mjpeg", params={"overlay": overlay, "frames": 1, "width": 320})
            assert r.status_code == 200, (overlay, r.text)
            assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
            assert first_jpeg(r.content).shape == (180, 320, 3)
        assert c.get("/cameras/nope/mjpeg").status_code == 404
        assert c.get("/cameras/yard/mjpeg", params={"overlay": "sepia"}).status_code == 422
        if CHROMIUM:  # the live page, in headless Chromium, plays this camera over WebRTC, overlaid
            with chromium(f"http://127.0.0.1:{port}") as page:
                assert palette_share(plays_over_webrtc(page, "yard"), PINK) > 0.01, "no false colour"

        clip = until(lambda: next((p for p in (root / "cameras" / "yard").glob("yard_*.mp4")), None), 120,
                     "a finished motion clip (not its hidden .part)", proc)
        asset = until(lambda: next((a for a in c.get("/assets", params={"limit": 500}).json()
                                    if Path(a["path"]).parent == clip.parent and a["status"] != "error"), None),
                      240, "the clip to be ingested", proc)
        hits = c.get("/search", params={"q": "yard", "limit": 20}).json()["hits"]
        assert asset["id"] in {h["asset_id"] for h in hits}, hits
        media = c.get(f"/assets/{asset['id']}/media")
        assert media.status_code == 200 and media.content[4:8] == b"ftyp"
        recorded = Path(asset["path"]).read_bytes()
        assert media.content == recorded

        ray_procs = psutil.Process(proc.pid).children(recursive=True)
        assert any("raylet" in " ".join(p.cmdline()) for p in ray_procs), "dam serve runs no local Ray?"
        c.close()
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        try:
            code = proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("dam serve did not stop on Ctrl-C") from None
        finally:
            log.close()
    assert code == 130, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]

    def alive() -> list[str]:
        out = []
        for p in ray_procs:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(" ".join(p.cmdline())[:120])
            except psutil.NoSuchProcess:
                pass
        return out

    deadline = time.monotonic() + 30
    while alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alive() == [], "Ray processes left after dam serve stopped"
    assert not list((root / "cameras" / "yard").glob(".*.part.mp4"))  # the clip in progress was finalised
