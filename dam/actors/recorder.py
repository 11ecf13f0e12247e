"""Motion-triggered recording with pre-roll and post-roll. Frames arrive JPEG-encoded (the
same bytes the preview serves), so the pre-roll ring buffer costs ~100× less memory than raw
frames; ffmpeg (arg list) turns them into H.264 in a hidden `.part` file that is renamed only
when the clip is complete, so scanners never see half a clip."""

from __future__ import annotations

import os
import subprocess
import time
from collections import deque
from pathlib import Path


class ClipRecorder:
    def __init__(self, folder: Path, prefix: str, fps: float, pre_roll: float, post_roll: float):
        self.folder, self.prefix, self.fps = Path(folder), prefix, fps
        self.post_roll = post_roll
        self.buffer: deque[bytes] = deque(maxlen=max(1, int(round(pre_roll * fps))))
        self.proc: subprocess.Popen | None = None
        self.part: Path | None = None
        self.final: Path | None = None
        self.last_motion = 0.0
        self.frames = 0

    @property
    def recording(self) -> bool:
        return self.proc is not None

    def push(self, jpeg: bytes, t: float, moving: bool) -> Path | None:
        """Feed one frame; returns the finished clip's path when this frame ends one."""
        if moving:
            self.last_motion = t
            if self.proc is None:
                self._open(t)
        if self.proc is None:
            self.buffer.append(jpeg)
            return None
        self._write(jpeg)
        if not moving and t - self.last_motion > self.post_roll:
            return self.close()
        return None

    def _open(self, t: float) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(t)) + f"-{int(t * 1000) % 1000:03d}"
        self.final = self.folder / f"{self.prefix}_{stamp}.mp4"
        self.part = self.folder / f".{self.final.stem}.part.mp4"
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "image2pipe", "-c:v", "mjpeg", "-framerate", f"{self.fps:.3f}",
               "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
               "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-movflags", "+faststart", f"file:{self.part}"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self.frames = 0
        while self.buffer:
            self._write(self.buffer.popleft())

    def _write(self, jpeg: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(jpeg)
            self.frames += 1
        except BrokenPipeError:
            pass  # ffmpeg died; close() reports it

    def close(self) -> Path | None:
        """Finish the clip in progress (stop, unplug, end of motion): a complete, playable file."""
        proc, part, final = self.proc, self.part, self.final
        self.proc = self.part = self.final = None
        if proc is None or part is None or final is None:
            return None
        try:
            _, err = proc.communicate(timeout=60)  # closes stdin: ffmpeg writes the index and exits
        except BrokenPipeError:
            _, err = b"", proc.stderr.read() if proc.stderr else b""
            proc.wait()
        if proc.returncode != 0 or not part.exists() or self.frames == 0:
            part.unlink(missing_ok=True)
            raise RuntimeError(f"recording failed: {err.decode(errors='replace').strip()[-300:]}")
        os.replace(part, final)
        return final
