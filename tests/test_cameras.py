"""Live cameras on real Ray: a file played in real time with hot-plug in a watched folder
(plug -> actor, motion-triggered clips finalised and ingested, unplug -> clip finished and actor
gone, re-plug -> same id), an HTTP MJPEG source served here, a two-node cluster placement.
The HTTP routes under `dam serve` itself: tests/test_serve_smoke.py."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import ray
from conftest import free_port, make_settings

from dam.actors.manager import camera_actor_name, start_manager
from dam.actors.watcher import DeviceWatcher
from dam.catalog import Catalog
from dam.media.probe import probe


def wait(fn, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def camera(manager, cam_id):
    return next((c for c in ray.get(manager.cameras.remote()) if c["id"] == cam_id), None)


def actor_exists(name: str) -> bool:
    try:
        ray.get_actor(name, namespace="dam")
        return True
    except ValueError:
        return False


@pytest.fixture
def manager_for(ray_cluster):
    made = []

    def make(settings):
        m = start_manager(settings)
        made.append(m)
        return m

    yield make
    for m in made:
        ray.get(m.shutdown.remote())
        ray.kill(m)


def test_hot_plug_record_unplug_replug(motion_media, manager_for, tmp_path):
    media, devices = tmp_path / "media", tmp_path / "dev"
    media.mkdir()
    devices.mkdir()
    settings = make_settings(tmp_path, media_roots=[media], camera_pre_roll=0.5, camera_post_roll=0.5,
                             camera_ingest_levels="L0")
    manager = manager_for(settings)
    watcher = DeviceWatcher.remote(str(devices), 0.1)
    try:
        (devices / "usb-Cam_ABC-video-index1").write_text("metadata node: ignored")
        shutil.copy(motion_media["objects"], devices / ".plugging")
        (devices / ".plugging").rename(devices / "usb-Cam_ABC-video-index0")
        cam_id = "usb-cam-abc-video-index0"
        wait(lambda: actor_exists(camera_actor_name(cam_id)), 30, "the camera actor")
        info = wait(lambda: (c := camera(manager, cam_id)) and c["frames"] > 0 and c, 30, "frames")
        assert info["node"] == ray.get_runtime_context().get_node_id() and info["kind"] == "file"
        assert [c["id"] for c in ray.get(manager.cameras.remote())] == [cam_id]  # index1 ignored
        # First crossing (2-5 s into the file): a clip is recorded and finalised after the post-roll.
        first = wait(lambda: (c := camera(manager, cam_id)) and c["clips"], 30, "the first clip")[0]
        # Unplug during the second crossing (8-10.5 s): that clip is finalised, the actor goes.
        wait(lambda: camera(manager, cam_id)["recording"], 30, "the second clip to start")
        (devices / "usb-Cam_ABC-video-index0").unlink()
        wait(lambda: not actor_exists(camera_actor_name(cam_id)), 60, "the actor to go")
        wait(lambda: (c := camera(manager, cam_id))["state"] == "unplugged" and c["recordings"] == 2, 30,
             "the second clip to be counted")
        clips = sorted((media / "cameras" / cam_id).glob("*.mp4"))
        assert len(clips) == 2 and str(clips[0]) == first
        assert not list((media / "cameras" / cam_id).glob(".*"))  # no half-written clip left
        durations = [probe(c).duration for c in clips]
        assert 3.0 < durations[0] < 6.0 and 0.5 < durations[1] < 4.0, durations
        log = wait(lambda: len(ray.get(manager.ingest_log.remote())) == 2 and ray.get(manager.ingest_log.remote()),
                   90, "the clips to be ingested")
        assert all(not e["errors"] for e in log)
        cat = Catalog(settings.catalog_path, readonly=True)
        assert {a.path for a in cat.assets()} == {str(c) for c in clips}
        # Settings persist with the camera's identity while it is away.
        assert ray.get(manager.configure.remote(cam_id, {"sensitivity": 0.9})) == {"sensitivity": 0.9}
        # Re-plug: same id, history and settings kept.
        shutil.copy(motion_media["flash"], devices / ".plugging")
        (devices / ".plugging").rename(devices / "usb-Cam_ABC-video-index0")
        wait(lambda: actor_exists(camera_actor_name(cam_id)), 30, "the camera to come back")
        row = wait(lambda: (c := camera(manager, cam_id)) and c["state"] == "running" and c, 30, "running again")
        assert row["plugs"] == 2 and row["recordings"] == 2 and row["first_seen"] == info["first_seen"]
        assert row["settings"] == {"sensitivity": 0.9}
        handle = ray.get(manager.camera.remote(cam_id))[0]
        assert ray.get(handle.info.remote())["settings"] == {"sensitivity": 0.9}
        events = ray.get(watcher.state.remote())["events"]
        assert [e[0] for e in events] == ["plug", "unplug", "plug"]
    finally:
        ray.get(watcher.stop.remote())
        ray.kill(watcher)


class _Mjpeg(http.server.BaseHTTPRequestHandler):
    """A network camera: multipart MJPEG, a square moving over a noisy still scene, 20 fps."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        rng = np.random.default_rng(0)
        scene = cv2.GaussianBlur(rng.integers(40, 200, (120, 160, 3), dtype=np.uint8), (5, 5), 0)
        i = 0
        try:
            while not self.server.stopping:
                img = np.clip(scene + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)
                x = (i * 4) % 140
                img[40:60, x:x + 20] = 230
                ok, buf = cv2.imencode(".jpg", img)
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(buf)
                                 + buf.tobytes() + b"\r\n")
                i += 1
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    stopping = False


def test_http_mjpeg_source_frames_by_reference(manager_for, tmp_path):
    server = _Server(("127.0.0.1", 0), _Mjpeg)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    manager = manager_for(make_settings(tmp_path, camera_record=False))
    cam_id = ray.get(manager.plug.remote(url, name="gate"))
    assert cam_id.startswith("url-") and cam_id == ray.get(manager.plug.remote(url))  # one actor per camera
    info = wait(lambda: (c := camera(manager, cam_id)) and c["frames"] > 20 and c, 30, "MJPEG frames")
    assert info["kind"] == "url" and info["name"] == "gate" and info["fps"] > 5 and info["plugs"] == 2
    handle = ray.get(manager.camera.remote(cam_id))[0]
    item = ray.get(handle.latest_frame.remote())
    assert isinstance(item["ref"][0], ray.ObjectRef)
    frame = ray.get(item["ref"][0])
    assert frame.shape == (120, 160, 3) and not frame.flags.writeable  # a zero-copy view of shared memory
    assert time.time() - item["t"] < 2
    wait(lambda: ray.get(handle.latest_frame.remote())["moving"], 20, "live motion on the moving square")
    server.stopping = True  # the network camera goes away: the actor stays and retries
    server.shutdown()
    server.server_close()
    wait(lambda: camera(manager, cam_id)["state"] == "reconnecting", 30, "reconnecting")


def test_two_node_cluster_places_cameras_on_their_node(motion_media, tmp_path):
    script = Path(__file__).with_name("camera_cluster_check.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, str(script), str(motion_media["flash"]), str(tmp_path), str(free_port())],
                       capture_output=True, text=True, timeout=400, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["head"] != out["worker"]
    assert out["affinity"]["node"] == out["worker"] and out["affinity"]["id"] == "usb-witness-cam-video-index0"
    assert out["resource"]["node"] == out["worker"]


def test_a_restarted_manager_gets_its_cameras_back(motion_media, manager_for, tmp_path):
    devices = tmp_path / "dev"
    devices.mkdir()
    manager = manager_for(make_settings(tmp_path, camera_record=False))
    watcher = DeviceWatcher.remote(str(devices), 0.1)
    try:
        shutil.copy(motion_media["flash"], devices / ".plugging")
        (devices / ".plugging").rename(devices / "video0-by-id")
        wait(lambda: (c := camera(manager, "video0-by-id")) and c["frames"] > 0, 30, "frames")
        ray.kill(manager, no_restart=False)  # a crash: Ray restarts it; its camera actors end with it
        row = wait(lambda: (c := camera(manager, "video0-by-id")) and c["plugs"] == 2 and c["frames"] > 0 and c, 60,
                   "the camera back")  # (the kill is asynchronous: the old manager may answer first)
        assert row["state"] == "running"
        assert "replug" in [e[0] for e in ray.get(watcher.state.remote())["events"]]
    finally:
        ray.get(watcher.stop.remote())
        ray.kill(watcher)
