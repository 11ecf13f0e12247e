"""Live events over one WebSocket: jobs, camera state and motion. The SSE stream of one job
(`GET /jobs/{id}/events`) stays; this channel carries everything a page watches at once.
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...).

The token: a browser cannot set headers on a WebSocket, so besides the `Authorization` header
and the page's session cookie, dam.serve.guard accepts `?token=` on this path; the Origin of a
WebSocket is always checked (a page elsewhere could otherwise open it with the cookie)."""

import asyncio
import json
import time

import ray
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from dam.actors.manager import get_manager
from dam.serve.http import app

TICK = 0.25  # seconds between two looks at the jobs
CAMERA_TICKS = 2  # cameras every this many ticks
JOBS = 20  # the most recent jobs watched
CAMERA_KEYS = ("state", "error", "recording", "node", "kind")


class EventRoutes:
    # --- events ---
    @app.websocket("/events/ws")
    async def events_ws(self, ws: WebSocket) -> None:
        """Messages, JSON: `{"type": "hello"}`, then `{"type": "job", "job": {...}}` each time one
        of the recent jobs changes (all of them first), `{"type": "camera", "camera": {...}}` when a
        camera's state, error or recording changes, and `{"type": "motion", "camera": id,
        "moving": bool, "t": unix seconds}` when motion starts or stops."""
        await ws.accept()
        gone = asyncio.Event()

        async def listen() -> None:  # the client says nothing; this notices it leave
            try:
                while (await ws.receive())["type"] != "websocket.disconnect":
                    pass
            except (WebSocketDisconnect, RuntimeError):
                pass
            gone.set()

        listener = asyncio.create_task(listen())
        jobs: dict[str, str] = {}
        cams: dict[str, tuple] = {}
        moving: dict[str, bool] = {}
        try:
            await ws.send_json({"type": "hello", "tick": TICK})
            tick = 0
            while not gone.is_set():
                for job in reversed(await self.library.jobs.remote(JOBS)):  # oldest first
                    text = json.dumps(job, sort_keys=True, default=str)
                    if jobs.get(job["id"]) != text:
                        jobs[job["id"]] = text
                        await ws.send_text(json.dumps({"type": "job", "job": job}, default=str))
                if tick % CAMERA_TICKS == 0:
                    for msg in await _camera_changes(cams, moving):
                        await ws.send_text(json.dumps(msg, default=str))
                tick += 1
                try:
                    await asyncio.wait_for(gone.wait(), TICK)
                except asyncio.TimeoutError:
                    pass
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left while we were sending
        finally:
            listener.cancel()
            if ws.client_state == WebSocketState.CONNECTED:
                try:
                    await ws.close()
                except RuntimeError:
                    pass


async def _camera_changes(cams: dict[str, tuple], moving: dict[str, bool]) -> list[dict]:
    manager = get_manager()
    if manager is None:
        return []
    try:
        rows = await manager.cameras.remote()
    except ray.exceptions.RayError:
        return []
    out = []
    for cam in rows:
        key = tuple(cam.get(k) for k in CAMERA_KEYS) + (len(cam.get("clips") or ()),)
        if cams.get(cam["id"]) != key:
            cams[cam["id"]] = key
            out.append({"type": "camera", "camera": cam})
        now_moving = bool(cam.get("motion"))
        if moving.get(cam["id"], False) != now_moving:
            out.append({"type": "motion", "camera": cam["id"], "moving": now_moving, "t": time.time()})
        moving[cam["id"]] = now_moving
    return out
