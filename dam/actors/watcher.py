"""A device watcher per node: polls a device folder (/dev/v4l/by-id by default on cameras
hosts; configurable, so tests simulate hot-plug in a temp folder) and tells the camera
manager about cameras that appear and disappear on this node."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from dam.actors.camera import NAMESPACE
from dam.actors.manager import MANAGER


def devices(folder: Path) -> set[str]:
    """Camera entries: /dev/videoN in /dev; in other folders (by-id, by-path, a test folder)
    every visible entry except V4L2 metadata nodes (…-index1 and up)."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return set()
    if folder.resolve() == Path("/dev"):
        keep = [n for n in names if re.fullmatch(r"video\d+", n)]
    else:
        keep = [n for n in names if not n.startswith(".") and not re.search(r"-index[1-9]\d*$", n)]
    return {str(folder / n) for n in keep}


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3, max_concurrency=4)
class DeviceWatcher:
    def __init__(self, folder: str, poll: float = 0.5, manager: str = MANAGER):
        self.folder, self.poll, self.manager_name = Path(folder), poll, manager
        self.node = ray.get_runtime_context().get_node_id()
        self.known: dict[str, str] = {}  # device path -> camera id
        self.events: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="device-watcher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as e:  # the manager restarting: try again next poll
                self.events.append(("error", f"{type(e).__name__}: {e}"))
            self._stop.wait(self.poll)

    def check(self) -> None:
        manager = ray.get_actor(self.manager_name, namespace=NAMESPACE)
        present = devices(self.folder)
        for path in sorted(present - set(self.known)):
            self.known[path] = ray.get(manager.plug.remote(path, node_id=self.node))
            self.events.append(("plug", self.known[path]))
        lost = set(ray.get(manager.missing.remote(list(self.known.values()))))
        for path in sorted(p for p, cid in self.known.items() if cid in lost and p in present):
            self.known[path] = ray.get(manager.plug.remote(path, node_id=self.node))
            self.events.append(("replug", self.known[path]))
        for path in sorted(set(self.known) - present):
            cam_id = self.known.pop(path)
            ray.get(manager.unplug.remote(cam_id))
            self.events.append(("unplug", cam_id))

    def state(self) -> dict:
        return {"node": self.node, "folder": str(self.folder), "devices": dict(self.known), "events": list(self.events)}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def start_watchers(folder: str | Path, nodes: list[str] | None = None, poll: float = 0.5) -> list:
    """One watcher per alive node (or per given node id), pinned to it."""
    ids = nodes or [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    return [DeviceWatcher.options(name=f"dam-watcher-{nid[:12]}", namespace=NAMESPACE, get_if_exists=True,
                                  scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=nid, soft=False))
            .remote(str(folder), poll) for nid in ids]
