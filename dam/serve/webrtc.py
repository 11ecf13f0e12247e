"""WebRTC live previews (aiortc): one RTCPeerConnection per viewer, living on the ingress
replica's event loop, whose video track pulls each new frame from the camera actor (by
reference, the same shared-memory frame the MJPEG preview reads), draws the chosen overlay
(dam.motion.overlays.preview_frame, in a worker thread) and hands it to aiortc's encoder. The
track waits on the actor's `next_frame`, so frames go out at the camera's own rate.

No STUN or TURN server: only host candidates are offered (dam runs where there may be no network,
and a viewer on the same LAN reaches the host directly). A data channel the page may open,
labelled `dam-clock`, receives `{"pts", "t"}` for every frame sent (`t`: capture time, Unix
seconds; `pts`: the frame's timestamp in 1/90000 s from the first frame), so a client can
measure capture-to-screen latency."""

from __future__ import annotations

import asyncio
import fractions
import json
import logging
import secrets

import ray
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from dam.errors import InvalidInput, Unavailable
from dam.motion.overlays import preview_frame

log = logging.getLogger("ray.serve")
CLOCK = 90_000  # RTP's video clock
MAX_SESSIONS = 16  # live previews per ingress replica (each one encodes its own stream)
CONNECT_SECONDS = 30.0  # a session that never connects is closed after this long
CLOCK_CHANNEL = "dam-clock"


class CameraTrack(MediaStreamTrack):
    """A video track of one camera's frames, overlaid. `camera` is the CameraActor handle."""

    kind = "video"

    def __init__(self, camera, overlay: str | None = None, ire: float = 95.0, boxes: bool = True,
                 width: int | None = 960):
        super().__init__()
        self.camera, self.overlay, self.ire, self.boxes, self.width = camera, overlay, ire, boxes, width
        self.seq = -1
        self.t0: float | None = None
        self.last_pts = -1
        self.sent = 0
        self.clock = None  # the `dam-clock` data channel, when the viewer opened one

    async def recv(self) -> VideoFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            try:
                item = await self.camera.next_frame.remote(self.seq, 0.5)
                if item is None:
                    continue
                frame = await item["ref"][0]  # shared-memory frame, by reference
            except ray.exceptions.RayError:
                self.stop()  # the camera was unplugged or stopped: the track ends
                raise MediaStreamError from None
            break
        self.seq = item["seq"]
        rgb = await asyncio.to_thread(picture, frame, self.overlay, self.ire,
                                      item["boxes"] if self.boxes else (), self.width)
        out = VideoFrame.from_ndarray(rgb, format="rgb24")
        if self.t0 is None:
            self.t0 = item["t"]
        self.last_pts = max(self.last_pts + 1, round((item["t"] - self.t0) * CLOCK))
        out.pts, out.time_base = self.last_pts, fractions.Fraction(1, CLOCK)
        self.sent += 1
        if self.clock is not None and self.clock.readyState == "open":
            self.clock.send(json.dumps({"pts": self.last_pts, "t": item["t"], "seq": self.seq}))
        return out


def picture(frame, overlay: str | None, ire: float, boxes, width: int | None):
    """preview_frame, cropped to even dimensions (the encoders' 4:2:0 needs them)."""
    out = preview_frame(frame, overlay, ire, boxes, width)
    h, w = out.shape[:2]
    return out[: h - h % 2, : w - w % 2]


class Sessions:
    """The live peer connections of this replica."""

    def __init__(self) -> None:
        self.open: dict[str, RTCPeerConnection] = {}

    async def answer(self, offer_sdp: str, camera, overlay: str | None = None, ire: float = 95.0,
                     boxes: bool = True, width: int | None = 960) -> dict:
        """The SDP answer to a viewer's offer; the session streams until the viewer leaves."""
        if len(self.open) >= MAX_SESSIONS:
            raise Unavailable(f"{MAX_SESSIONS} live previews are open already; close one, or use the MJPEG preview")
        if "m=video" not in offer_sdp:
            raise InvalidInput("the offer has no video section: add a recvonly video transceiver", code="bad_offer")
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # host candidates only: no STUN
        session = secrets.token_urlsafe(12)
        self.open[session] = pc
        track = CameraTrack(camera, overlay, ire, boxes, width)

        @pc.on("datachannel")
        def _channel(channel) -> None:
            if channel.label == CLOCK_CHANNEL:
                track.clock = channel

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close(session)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except Exception as e:  # noqa: BLE001 - aiortc refuses a malformed offer with ValueError, AssertionError...
            await self.close(session)
            raise InvalidInput(f"cannot answer this offer: {type(e).__name__} {e}".strip(), code="bad_offer") from None
        try:
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await self.close(session)
            raise
        asyncio.get_running_loop().call_later(CONNECT_SECONDS, self._unless_connected, session)
        return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "session": session}

    def _unless_connected(self, session: str) -> None:
        pc = self.open.get(session)
        if pc is not None and pc.connectionState != "connected":
            asyncio.ensure_future(self.close(session))

    async def close(self, session: str) -> None:
        pc = self.open.pop(session, None)
        if pc is not None:
            try:
                await pc.close()
            except Exception as e:  # noqa: BLE001 - closing is best effort; the session is gone either way
                log.warning("closing WebRTC session %s: %s", session, e)

    async def close_all(self) -> None:
        for session in list(self.open):
            await self.close(session)

