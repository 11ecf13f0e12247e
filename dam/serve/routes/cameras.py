"""Live cameras: the list, and live previews with exposure and focus overlays: WebRTC (an SDP
offer in, the answer out; the peer connection lives in dam.serve.webrtc) and MJPEG (the fallback).
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...) and self._inside."""

import asyncio

import ray
from fastapi import Query
from fastapi.responses import StreamingResponse

from dam.actors.manager import get_manager
from dam.errors import NotFound
from dam.motion.overlays import preview_jpeg
from dam.serve.http import app
from dam.serve.models import WebRTCAnswer, WebRTCOffer


class CameraRoutes:
    # --- cameras ---
    @app.get("/cameras")
    async def cameras(self) -> list[dict]:
        """Every known camera: node, state, fps, dropped frames, motion, recording, clips."""
        manager = get_manager()
        return [] if manager is None else await manager.cameras.remote()

    async def _camera(self, cam_id: str):
        manager = get_manager()
        found = None if manager is None else await manager.camera.remote(cam_id)
        if found is None:
            raise NotFound(f"no running camera {cam_id!r}")
        return found[0]

    @app.get("/cameras/{cam_id}/mjpeg")
    async def camera_mjpeg(self, cam_id: str, overlay: str | None = Query(None, pattern="^(none|false_colour|zebra|peaking)$"),
                           ire: float = Query(95.0, ge=0, le=109), boxes: bool = True,
                           fps: float = Query(15.0, gt=0, le=60), width: int = Query(960, ge=64, le=3840),
                           frames: int | None = Query(None, ge=1, description="Stop after this many frames.")):
        """Live MJPEG preview with optional overlays: false colour, zebras at `ire`, focus peaking."""
        cam = await self._camera(cam_id)

        async def stream():
            # Each part is followed by its delimiter, not preceded: a browser shows a part of
            # multipart/x-mixed-replace when the next delimiter arrives, so delimiter-first framing
            # kept every frame off the screen until the next one was sent (a camera that stalls
            # showed nothing at all).
            yield b"--frame\r\n"
            last, sent = -1, 0
            loop = asyncio.get_running_loop()
            while frames is None or sent < frames:
                started = loop.time()
                try:
                    item = await cam.next_frame.remote(last, 0.5)  # waits for a frame newer than `last`
                    if item is None:
                        continue
                    frame = await item["ref"][0]  # shared-memory frame, by reference
                except ray.exceptions.RayError:
                    return  # the camera was unplugged or stopped: end of stream
                last = item["seq"]
                jpeg = await asyncio.to_thread(preview_jpeg, frame, overlay, ire, item["boxes"] if boxes else (), width)
                yield (b"Content-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode()
                       + b"\r\nX-Capture-Time: " + repr(item["t"]).encode() + b"\r\n\r\n" + jpeg + b"\r\n--frame"
                       + (b"--\r\n" if frames is not None and sent + 1 >= frames else b"\r\n"))  # `--`: the last part
                sent += 1
                await asyncio.sleep(max(0.0, 1.0 / fps - (loop.time() - started)))

        return StreamingResponse(stream(), media_type="multipart/x-mixed-replace; boundary=frame",
                                 headers={"Cache-Control": "no-cache"})

    @app.post("/cameras/{cam_id}/webrtc", response_model=WebRTCAnswer)
    async def camera_webrtc(self, cam_id: str, body: WebRTCOffer) -> dict:
        """Live preview over WebRTC: post the page's SDP offer (a recvonly video transceiver),
        get the answer. Frames come at the camera's rate with the chosen overlay; host
        candidates only (no STUN). A data channel labelled `dam-clock` receives each frame's
        capture time. When the browser cannot connect, `/cameras/{id}/mjpeg` is the fallback."""
        cam = await self._camera(cam_id)
        from dam.serve.webrtc import Sessions  # aiortc is imported by the first live preview only

        if getattr(self, "_webrtc", None) is None:
            self._webrtc = Sessions()
        return await self._webrtc.answer(body.sdp, cam, body.overlay, body.ire, body.boxes, body.width)
