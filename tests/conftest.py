"""Test media is generated with ffmpeg once per session; Ray runs as a real local cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from dam.config import Settings
from dam.samples import Shot, make_video

SIZE = (480, 270)
FPS = 25

SHOTS = [Shot("testsrc", 3), Shot("bars", 3), Shot("mandelbrot", 3, "dissolve"), Shot("rgb", 3, "fade"),
         Shot("cells", 3), Shot("sunset", 3, "dissolve")]
OTHER = [Shot("sierpinski", 3), Shot("bars", 3), Shot("gradients", 3)]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict:
    """A small library with known truth, plus the bad inputs a real library always has."""
    root = tmp_path_factory.mktemp("media")
    good = root / "good"
    truth = make_video(good / "shots.mp4", SHOTS, fps=FPS, size=SIZE)
    make_video(good / "other.mp4", OTHER, fps=FPS, size=SIZE)
    # A re-encoded, rescaled and cropped copy: a near-duplicate of shots.mp4.
    ffmpeg("-i", str(good / "shots.mp4"), "-vf", "crop=iw*0.92:ih*0.92,scale=320:-2", "-c:v", "libx264", "-crf", "32",
           "-threads", "1", "-preset", "veryfast", "-an", str(good / "shots_copy_small.mp4"))
    ffmpeg("-ss", "4.5", "-i", str(good / "shots.mp4"), "-frames:v", "1", "-q:v", "3", str(good / "still_bars.jpg"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-ac", "2", str(good / "tone.wav"))
    odd = good / "odd names"
    odd.mkdir()
    make_video(odd / "clip ü 'quoted' ; rm -rf.mp4", [Shot("gradients", 2), Shot("rgb", 2)], fps=FPS, size=(320, 180))
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "notes.mp4").write_text("this is a text file with a video extension\n" * 20)
    (bad / "random.mov").write_bytes(os.urandom(50_000))
    data = (good / "shots.mp4").read_bytes()
    (bad / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (bad / "truncated_tail.mp4").write_bytes(data[: len(data) * 9 // 10])  # opens fine, ends early
    (bad / "audio_only.m4a").write_bytes((good / "tone.wav").read_bytes())  # mislabelled WAV
    return {"root": root, "good": good, "bad": bad, "truth": truth, "shots": good / "shots.mp4",
            "other": good / "other.mp4", "copy": good / "shots_copy_small.mp4", "still": good / "still_bars.jpg"}


@pytest.fixture(scope="session")
def motion_media(tmp_path_factory) -> dict[str, Path]:
    """Footage with known motion (dam.motion.synth.SCENARIOS), one file per scenario."""
    from dam.motion.synth import SCENARIOS, render

    root = tmp_path_factory.mktemp("motion")
    return {name: render(root / f"{name}.mp4", sc, size=(480, 270)) for name, sc in SCENARIOS.items()}


@pytest.fixture(scope="session")
def ray_cluster():
    """One real local Ray for the session (two CPUs, like CI)."""
    import ray

    from dam.runtime.start import ensure_ray

    ensure_ray(Settings())
    yield ray
    ray.shutdown()


def make_settings(tmp: Path, **kw) -> Settings:
    return Settings(data_dir=tmp / "dam-data", shard_seconds=kw.pop("shard_seconds", 8.0), **kw)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def indexed(media, ray_cluster, tmp_path_factory):
    """The good library ingested once through every level; read-only for the tests using it."""
    from dam.library import Library

    lib = Library(make_settings(tmp_path_factory.mktemp("lib")))
    report = lib.ingest([media["good"]], implicit_root=True)
    yield lib, report
    lib.close()


TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class ReadToken(httpx.Auth):
    """The suite's HTTP client: reads carry the token (with one set, every route needs it), while
    mutating calls pass AUTH themselves, so tests still see a change refused without it.
    tests/test_access.py checks every route without the token."""

    def auth_flow(self, request: httpx.Request):
        if request.method in ("GET", "HEAD") and "authorization" not in request.headers:
            request.headers["Authorization"] = AUTH["Authorization"]
        yield request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(media, ray_cluster, tmp_path_factory):
    from ray import serve

    from dam.serve.app import run

    base = tmp_path_factory.mktemp("http")
    root = base / "Footage"
    shutil.copytree(media["good"], root / "good")
    shutil.copy(media["bad"] / "notes.mp4", root / "good" / "notes.mp4")
    outside = base / "outside"
    outside.mkdir()
    shutil.copy(media["other"], outside / "secret.mp4")
    (root / "escape").symlink_to(outside)
    settings = make_settings(base, media_roots=[root], api_token=TOKEN, port=free_port(), max_upload_mb=1,
                             max_query_image_mb=1, backup_roots=[base / "Backups"])
    run(settings, blocking=False)
    client = httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", timeout=120, auth=ReadToken())
    yield {"client": client, "root": root, "outside": outside, "backups": base / "Backups", "settings": settings}
    client.close()
    serve.shutdown()


def wait_for_job(client, job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}/status").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")
