"""One long-lived actor per camera. It alone opens the device; a capture thread reads frames,
runs live motion detection, feeds the pre/post-roll recorder and publishes the latest frame
to the object store, so every preview reads the same shared-memory frame by reference.

Restarted by Ray on failure (max_restarts); an unplugged or broken source is reopened every
second while the actor lives, and the clip in progress is finalised first."""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

import cv2
import ray

from dam.actors.recorder import ClipRecorder
from dam.actors.sources import FrameSource, SourceGone, SourceSpec
from dam.config import Settings
from dam.motion.analyze import analysis_size
from dam.motion.detect import MotionDetector
from dam.motion.model import MotionParams

NAMESPACE = "dam"
RETRY_SECONDS = 1.0


def recordings_dir(settings: Settings, cam_id: str) -> Path:
    """Clips go into the first media root (so they are part of the library), else the data dir."""
    roots = settings.resolved_roots()
    base = roots[0] / "cameras" if roots else settings.root / "recordings"
    return base / cam_id


@ray.remote(num_cpus=0.1, max_restarts=-1, max_task_retries=3, max_concurrency=16)
class CameraActor:
    def __init__(self, spec: dict, settings: dict, camera_settings: dict | None = None,
                 manager: str | None = None):
        self.spec = SourceSpec(**spec)
        self.settings = Settings(**settings)
        self.conf = dict(camera_settings or {})
        self.manager = manager
        self.node = ray.get_runtime_context().get_node_id()
        self.state, self.error = "starting", None
        self.frames = self.seq = 0
        self.dropped_before = 0  # drops of sources that were reopened
        self.source: FrameSource | None = None
        self.times: deque[float] = deque(maxlen=60)
        self.latest: dict | None = None
        self._fresh = threading.Condition()  # notified on every new frame (next_frame waits on it)
        self.moving, self.boxes, self.last_motion = False, [], None
        self.recorder: ClipRecorder | None = None
        self.recordings: list[str] = []
        self.failed_recordings: list[str] = []
        self._stop = threading.Event()
        self._reopen = False
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.spec.id}", daemon=True)
        self._thread.start()

    # --- capture loop ------------------------------------------------------------------------

    def _params(self) -> MotionParams:
        return MotionParams.from_settings(self.settings, **{k: v for k, v in self.conf.items()
                                                              if k in MotionParams.model_fields})

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.source = FrameSource(self.spec)
            except SourceGone as e:
                self.state, self.error = "reconnecting", str(e)
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                self.state, self.error = "running", None
                self._capture(self.source)
            except SourceGone as e:
                self.state, self.error = "reconnecting", str(e)
            except Exception as e:  # keep the actor up; the state says what went wrong
                self.state, self.error = "error", f"{type(e).__name__}: {e}"
            finally:
                self._finish_clip()
                self.dropped_before += self.source.dropped
                self.source.close()
                self.source = None
            if self._reopen:
                self._reopen = False
                continue
            self._stop.wait(RETRY_SECONDS)
        self.state = "stopped"

    def _capture(self, src: FrameSource) -> None:
        params = self._params()
        every = max(1, round(src.fps / params.fps)) if params.fps else 1
        detector: MotionDetector | None = None
        record = bool(self.conf.get("record", self.settings.camera_record))
        if record:
            self.recorder = ClipRecorder(recordings_dir(self.settings, self.spec.id), self.spec.id, src.fps,
                                         float(self.conf.get("pre_roll", self.settings.camera_pre_roll)),
                                         float(self.conf.get("post_roll", self.settings.camera_post_roll)))
        n = 0
        while not self._stop.is_set() and not self._reopen:
            frame, t = src.read()
            h, w = frame.shape[:2]
            if detector is None:
                size = analysis_size(w, h, params.width)
                detector = MotionDetector(size, params)
            if n % every == 0:
                grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), detector.size, interpolation=cv2.INTER_AREA)
                fm = detector.update(grey, t)
                self.moving = bool(fm.boxes) and not fm.camera
                self.boxes = fm.boxes if self.moving else []
                if self.moving:
                    self.last_motion = t
            n += 1
            self.frames += 1
            self.seq += 1
            self.times.append(time.monotonic())
            # Published by reference: previews ray.get() the same shared-memory frame.
            latest = {"seq": self.seq, "ref": [ray.put(frame)], "t": t, "boxes": list(self.boxes),
                      "moving": self.moving}
            with self._fresh:
                self.latest = latest
                self._fresh.notify_all()
            if self.recorder is not None:
                ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
                clip = self.recorder.push(jpeg.tobytes(), t, self.moving)
                if clip is not None:
                    self._finished(clip)

    def _finish_clip(self) -> None:
        if self.recorder is not None:
            try:
                clip = self.recorder.close()
            except RuntimeError as e:
                self.failed_recordings.append(str(e))
                clip = None
            self.recorder = None
            if clip is not None:
                self._finished(clip)

    def _finished(self, clip: Path) -> None:
        self.recordings.append(str(clip))
        if self.manager:
            try:
                ray.get_actor(self.manager, namespace=NAMESPACE).on_recording.remote(self.spec.id, str(clip))
            except ValueError:
                pass  # no manager (a camera started by hand): the clip is on disk all the same

    # --- methods ---------------------------------------------------------------------------

    def info(self) -> dict:
        fps = 0.0
        if len(self.times) > 1 and time.monotonic() - self.times[-1] < 2:
            fps = (len(self.times) - 1) / (self.times[-1] - self.times[0])
        dropped = self.dropped_before + (self.source.dropped if self.source else 0)
        return {"id": self.spec.id, "name": self.spec.name, "kind": self.spec.kind, "node": self.node,
                "state": self.state, "error": self.error, "fps": round(fps, 2), "frames": self.frames,
                "dropped": dropped, "motion": self.moving, "last_motion": self.last_motion,
                "recording": bool(self.recorder and self.recorder.recording), "recordings": list(self.recordings),
                "settings": dict(self.conf)}

    def latest_frame(self) -> dict | None:
        """{seq, ref: [ObjectRef of the RGB frame], t (capture time), boxes, moving}."""
        return self.latest

    def next_frame(self, after: int, timeout: float = 0.5) -> dict | None:
        """The first frame newer than seq `after`, as latest_frame; waits for it up to `timeout`
        seconds (None then). A live preview waits here instead of polling, so a frame leaves the
        actor as soon as it is captured."""
        with self._fresh:
            self._fresh.wait_for(lambda: self.latest is not None and self.latest["seq"] > after,
                                 timeout=max(0.0, min(timeout, 5.0)))
            latest = self.latest
        return latest if latest is not None and latest["seq"] > after else None

    def configure(self, camera_settings: dict) -> None:
        """New per-camera settings (sensitivity, zones, masks, record, pre/post roll): the source
        is reopened with them (the clip in progress is finished first)."""
        self.conf.update(camera_settings)
        self._reopen = True

    def stop(self) -> list[str]:
        """Stop capturing, finalise the clip in progress, release the device."""
        self._stop.set()
        self._thread.join(timeout=60)
        return list(self.recordings)
