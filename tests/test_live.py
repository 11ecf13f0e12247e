"""Live previews and live events against the running `dam serve` (the session's `server`), with a
file played in real time as camera "yard": in headless Chromium the live page plays the camera
over WebRTC (frames decoded, the false-colour palette on screen) and falls back to MJPEG when
RTCPeerConnection is missing; the events WebSocket refuses a client without the token or from
another origin and sends a job's events to one with it."""

from __future__ import annotations

import json
import shutil
import time
from contextlib import contextmanager

import numpy as np
import pytest
from conftest import AUTH, TOKEN

from dam.motion.overlays import FALSE_COLOUR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by `scripts/setup.sh --with-browser`")
CAMERA = "yard"


@pytest.fixture(scope="module")
def camera(server, motion_media, ray_cluster):
    """The camera manager `dam serve` starts for DAM_CAMERA_SOURCES, here started beside the
    session's server, with one file camera (no recording); stopped after this module."""
    from dam.actors.manager import start_manager

    src = server["root"] / "cameras-src" / f"{CAMERA}.mp4"
    src.parent.mkdir(exist_ok=True)
    shutil.copy(motion_media["objects"], src)
    settings = server["settings"].model_copy(update={"camera_sources": [str(src)], "camera_record": False})
    manager = start_manager(settings)
    c = server["client"]
    deadline = time.monotonic() + 60
    while not any(x["id"] == CAMERA and x["frames"] > 0 for x in c.get("/cameras").json()):
        assert time.monotonic() < deadline, "the camera did not start"
        time.sleep(0.3)
    yield CAMERA
    ray_cluster.get(manager.shutdown.remote(), timeout=60)
    ray_cluster.kill(manager)


@contextmanager
def chromium(base_url: str, token: str | None = None):
    """A headless Chromium page on `base_url`, logged in when the server has a token; page errors
    fail the caller."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 720}, base_url=base_url)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        if token:
            page.goto("/login")
            page.get_by_test_id("login-token").fill(token)
            page.get_by_test_id("login-button").click()
            page.wait_for_selector('[data-testid="search-input"]')
        try:
            yield page
        finally:
            page.goto("about:blank")  # the viewer leaves: the live page closes its session
            browser.close()
        assert errors == [], errors


@pytest.fixture
def browser_page(server):
    with chromium(str(server["client"].base_url), TOKEN) as page:
        yield page


DECODED = """async () => { let n = 0; (await window.damLive.pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.framesDecoded; }); return n; }"""


def plays_over_webrtc(page, camera: str, overlay: str = "false_colour") -> bytes:
    """The live page plays `camera` over WebRTC at the camera's own width (480), ten frames
    decoded, capture times arriving; returns a screenshot of the video."""
    page.goto(f"/live?camera={camera}&overlay={overlay}")
    page.wait_for_function("window.damLive && window.damLive.mode", timeout=30_000)
    assert page.evaluate("window.damLive.mode") == "webrtc"
    page.wait_for_function("document.getElementById('live-video').videoWidth > 0", timeout=20_000)
    page.wait_for_function(f"({DECODED})().then((n) => n >= 10)", timeout=20_000)
    assert page.evaluate("document.getElementById('live-video').videoWidth") == 480
    page.wait_for_function("window.damLive.lastClock && window.damLive.lastClock.t > 0", timeout=20_000)  # capture times
    return page.get_by_test_id("live-video").screenshot()


def why_no_frames(server, camera: str) -> str:
    """Whether the server still sends the camera's frames, and the camera's state."""
    c = server["client"]
    t0 = time.monotonic()
    try:
        r = c.get(f"/cameras/{camera}/mjpeg", params={"frames": 2, "width": 320}, timeout=30)
        got = f"GET mjpeg: {r.status_code}, {len(r.content)} bytes in {time.monotonic() - t0:.1f} s"
    except Exception as e:  # noqa: BLE001 - a diagnosis
        got = f"GET mjpeg: {type(e).__name__} after {time.monotonic() - t0:.1f} s"
    return f"{got}; cameras: {c.get('/cameras').text}"


def palette_share(png: bytes, colour: tuple[int, int, int], tol: int = 40) -> float:
    import cv2

    img = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(int)
    return float((np.abs(img - np.array(colour)).max(axis=2) <= tol).mean())


PINK = next(c for _, c in FALSE_COLOUR if c == (255, 128, 192))  # the band one stop over 18 % grey


@needs_chromium
def test_live_page_plays_the_camera_over_webrtc_with_false_colour(server, camera, browser_page):
    page = browser_page
    assert palette_share(plays_over_webrtc(page, camera), PINK) > 0.01, "no false colour in the WebRTC picture"
    page.get_by_test_id("live-overlay").select_option("none")  # a new session, without the overlay
    page.wait_for_function(f"window.damLive.pc && ({DECODED})().then((n) => n >= 5)", timeout=20_000)
    assert palette_share(page.get_by_test_id("live-video").screenshot(), PINK) < 0.002


@needs_chromium
def test_live_page_falls_back_to_mjpeg_without_webrtc(server, camera, browser_page):
    page = browser_page
    page.add_init_script("delete window.RTCPeerConnection")
    page.goto(f"/live?camera={camera}&overlay=false_colour")
    page.wait_for_function("window.damLive && window.damLive.mode === 'mjpeg'", timeout=30_000)
    try:
        page.wait_for_function("document.getElementById('live-mjpeg').naturalWidth > 0", timeout=60_000)
    except Exception:
        raise AssertionError(f"no MJPEG frame on the page; {why_no_frames(server, camera)}") from None
    assert palette_share(page.get_by_test_id("live-mjpeg").screenshot(), PINK) > 0.01


def test_webrtc_offer_is_checked(server, camera):
    c = server["client"]
    assert c.post(f"/cameras/{camera}/webrtc", json={"sdp": "v=0", "type": "offer"}).status_code == 401
    for sdp in ("v=0\r\n", "m=video", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"):  # no video; malformed; no ICE
        bad = c.post(f"/cameras/{camera}/webrtc", json={"sdp": sdp, "type": "offer"}, headers=AUTH)
        assert bad.status_code == 422 and bad.json()["error"] == "bad_offer", (sdp, bad.text)
    assert c.post("/cameras/nope/webrtc", json={"sdp": "v=0", "type": "offer"}, headers=AUTH).status_code == 404
    assert c.post(f"/cameras/{camera}/webrtc", json={"sdp": "v=0", "type": "offer", "overlay": "sepia"},
                  headers=AUTH).status_code == 422


def test_events_websocket_needs_the_token_and_our_origin_and_sends_job_events(server, camera):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    c = server["client"]
    url = str(c.base_url).replace("http://", "ws://") + "/events/ws"
    for target, headers in [(url, {}), (url + "?token=wrong", {}), (url, {"Authorization": "Bearer wrong"}),
                            (url + f"?token={TOKEN}", {"Origin": "http://evil.example"})]:
        with pytest.raises(InvalidStatus) as refused:
            connect(target, additional_headers=headers, open_timeout=30)
        assert refused.value.response.status_code == (403 if "Origin" in headers else 401), (target, headers)
        assert json.loads(refused.value.response.body)["error"] in ("unauthorized", "cross_origin")

    origin = str(c.base_url).rstrip("/")
    with connect(url + f"?token={TOKEN}", origin=origin, open_timeout=30) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "hello"
        r = c.post("/ingest", json={"paths": ["good/still_bars.jpg"], "levels": "L0"}, headers=AUTH)
        assert r.status_code == 202, r.text
        job, seen, cameras = r.json()["job"], [], set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(s in ("done", "failed") for s in seen):
            msg = json.loads(ws.recv(timeout=30))
            if msg["type"] == "job" and msg["job"]["id"] == job:
                seen.append(msg["job"]["status"])
            elif msg["type"] == "camera":
                cameras.add(msg["camera"]["id"])
        assert seen and seen[-1] == "done", seen
        assert camera in cameras  # camera state comes on the same channel
    with connect(url, additional_headers=AUTH, open_timeout=30) as ws:  # a non-browser client: the header
        assert json.loads(ws.recv(timeout=30))["type"] == "hello"


def test_webrtc_from_a_python_client_gets_overlaid_frames_and_capture_times(server, camera):
    """No browser: aiortc as the client, as benchmarks/live.py measures latency with it."""
    import asyncio

    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    async def watch() -> tuple[list, dict]:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        clock = pc.createDataChannel("dam-clock")
        captured: dict[int, float] = {}
        clock.on("message", lambda m: captured.__setitem__((d := json.loads(m))["pts"], d["t"]))
        tracks: asyncio.Queue = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        await pc.setLocalDescription(await pc.createOffer())
        r = await asyncio.to_thread(server["client"].post, f"/cameras/{camera}/webrtc", headers=AUTH,
                                    json={"sdp": pc.localDescription.sdp, "type": "offer", "overlay": "false_colour"})
        assert r.status_code == 200, r.text
        assert r.json()["type"] == "answer" and "a=candidate" in r.json()["sdp"]  # host candidates in the answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.json()["sdp"], type="answer"))
        track = await asyncio.wait_for(tracks.get(), 30)
        frames = [await asyncio.wait_for(track.recv(), 30) for _ in range(15)]
        await pc.close()
        return frames, captured

    try:
        frames, captured = asyncio.run(watch())
    except TimeoutError:
        raise AssertionError(f"no WebRTC frames; {why_no_frames(server, camera)}") from None
    assert {(f.width, f.height) for f in frames} == {(480, 270)}
    assert all(a.pts < b.pts for a, b in zip(frames, frames[1:]))  # in capture order
    assert captured and all(t > 1e9 for t in captured.values())  # Unix capture times on dam-clock
    rgb = frames[-1].to_ndarray(format="rgb24").astype(int)
    assert (np.abs(rgb - np.array(PINK)).max(axis=2) <= 40).mean() > 0.01  # the overlay is in the stream
