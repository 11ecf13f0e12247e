"""Live preview latency, capture to client, WebRTC against MJPEG, through `dam serve` with a file
camera (as the README starts it): the camera actor stamps each frame's capture time
(time.time()); the WebRTC client (aiortc, as a browser would: an offer with a recvonly video
transceiver and the `dam-clock` data channel) notes when each frame is decoded and looks its
capture time up by the frame's timestamp; the MJPEG client reads each part's X-Capture-Time
header when the JPEG is decoded. Same machine, same clock; the two run one after the other on the
same server, with the same overlay and width.

    python -m benchmarks.live                       # starts `dam serve` itself (its own Ray)
    python -m benchmarks.live --url http://127.0.0.1:8000 --camera yard --token T
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np


async def webrtc_latency(url: str, camera: str, seconds: float, token: str | None = None,
                         overlay: str = "false_colour", width: int = 960) -> dict:
    """Frames received over WebRTC in `seconds`, and capture-to-decoded latency (ms)."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    clock = pc.createDataChannel("dam-clock")
    captured: dict[int, float] = {}
    clock.on("message", lambda m: captured.__setitem__((d := json.loads(m))["pts"], d["t"]))
    tracks: asyncio.Queue = asyncio.Queue()
    pc.on("track", lambda t: tracks.put_nowait(t))
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
        r = await c.post(f"/cameras/{camera}/webrtc", json={"sdp": pc.localDescription.sdp, "type": "offer",
                                                            "overlay": overlay, "width": width})
        r.raise_for_status()
        started = time.perf_counter()
        await pc.setRemoteDescription(RTCSessionDescription(**{k: r.json()[k] for k in ("sdp", "type")}))
    track = await asyncio.wait_for(tracks.get(), 10)
    arrivals: list[tuple[int, float]] = []
    size = None
    first = None
    try:
        end = None
        while end is None or time.perf_counter() < end:
            frame = await asyncio.wait_for(track.recv(), 10)
            arrived = time.time()
            if first is None:
                first, end = time.perf_counter() - started, time.perf_counter() + seconds
            size = (frame.width, frame.height)
            arrivals.append((frame.pts, arrived))
    except MediaStreamError:
        pass
    finally:
        await pc.close()
    # The receiver's pts count from the first frame it received (the first sent, on a loopback link
    # where nothing is lost), and come back up to one tick (1/90000 s) below the sent one after the
    # decoder's rounding. Frames sent before the data channel opened have no capture time.
    def capture(pts: int) -> float | None:
        return next((captured[p] for p in (pts, pts + 1, pts - 1) if p in captured), None)

    lat = [(at - t) * 1000 for pts, at in arrivals[10:] if (t := capture(pts)) is not None]  # after warm-up
    return {"frames": len(arrivals), "fps": round(len(arrivals) / seconds, 1), "size": size, "matched": len(lat),
            "first_frame_s": round(first or 0, 2), **_stats(lat)}


def mjpeg_latency(url: str, camera: str, seconds: float, token: str | None = None,
                  overlay: str = "false_colour", width: int = 960, fps: float = 60) -> dict:
    import cv2

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    lat, n, size = [], 0, None
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c, c.stream(
            "GET", f"/cameras/{camera}/mjpeg", params={"overlay": overlay, "width": width, "fps": fps}) as r:
        r.raise_for_status()
        buf, end = b"", time.perf_counter() + seconds
        for chunk in r.iter_bytes():
            buf += chunk
            while (head := buf.find(b"\r\n\r\n")) >= 0 and b"Content-Length:" in buf[:head]:
                fields = dict(line.split(b": ", 1) for line in buf[:head].split(b"\r\n") if b": " in line)
                length = int(fields[b"Content-Length"])
                if len(buf) < head + 4 + length:
                    break
                jpeg = buf[head + 4: head + 4 + length]
                buf = buf[head + 4 + length:]
                img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
                arrived = time.time()
                size = (img.shape[1], img.shape[0])
                n += 1
                if n > 10:
                    lat.append((arrived - float(fields[b"X-Capture-Time"])) * 1000)
            if time.perf_counter() > end:
                break
    return {"frames": n, "fps": round(n / seconds, 1), "size": size, **_stats(lat)}


def _stats(ms: list[float]) -> dict:
    if not ms:
        return {"p50_ms": None, "p95_ms": None}
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "mean_ms": round(float(np.mean(ms)), 1)}


def measure(url: str, camera: str, seconds: float, token: str | None, overlay: str, width: int) -> dict:
    cams = httpx.get(f"{url}/cameras", headers={"Authorization": f"Bearer {token}"} if token else {}).json()
    cam_fps = next((c["fps"] for c in cams if c["id"] == camera), None)
    return {"camera": camera, "camera_fps": cam_fps, "overlay": overlay, "width": width, "seconds": seconds,
            "webrtc": asyncio.run(webrtc_latency(url, camera, seconds, token, overlay, width)),
            "mjpeg": mjpeg_latency(url, camera, seconds, token, overlay, width)}


def with_dam_serve(seconds: float, overlay: str, width: int, size: tuple[int, int], fps: int) -> dict:
    """`DAM_CAMERA_SOURCES=yard.mp4 dam serve` in a fresh folder, measured, then Ctrl-C."""
    from dam.motion.synth import SCENARIOS, render

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Footage"
        root.mkdir()
        render(root / "yard.mp4", SCENARIOS["objects"], size=size, fps=fps)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAM_", "RAY_ADDRESS"))}
        env.update(DAM_DATA_DIR=str(Path(tmp) / "dam-data"), DAM_PORT=str(port), DAM_CAMERA_SOURCES="yard.mp4",
                   DAM_CAMERA_RECORD="false")
        proc = subprocess.Popen([sys.executable, "-m", "dam.cli", "serve"], cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if any(c["frames"] > 0 for c in httpx.get(f"{url}/cameras", timeout=5).json()):
                        break
                except (httpx.HTTPError, ValueError, TypeError):
                    pass
                time.sleep(1)
            time.sleep(3)  # let the camera settle into its rate
            out = measure(url, "yard", seconds, None, overlay, width)
            out["source"] = {"size": list(size), "fps": fps}
            return out
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url")
    ap.add_argument("--camera", default="yard")
    ap.add_argument("--token")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--overlay", default="false_colour")
    ap.add_argument("--width", type=int, default=960, help="preview width (wider frames are downsized)")
    ap.add_argument("--size", default="480x270,960x540",
                    help="the generated camera's frame sizes, one `dam serve` each (without --url)")
    ap.add_argument("--fps", type=int, default=25, help="the generated camera's rate (without --url)")
    args = ap.parse_args()
    if args.url:
        out = measure(args.url, args.camera, args.seconds, args.token, args.overlay, args.width)
    else:
        runs = []
        for size in args.size.split(","):
            w, h = (int(x) for x in size.split("x"))
            runs.append(with_dam_serve(args.seconds, args.overlay, args.width, (w, h), args.fps))
        out = {"runs": runs}
    out["cpus"] = os.cpu_count()
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]  # other work on the machine skews both
    print(json.dumps(out, indent=1))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "live.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
