"""The camera registry: one named actor per cluster. It starts a CameraActor per camera on the
node the device is attached to (node affinity, or a custom resource), keeps each camera's
identity, settings and history in the catalog (`cameras` table; a re-plugged camera keeps its
id and settings), stops cameras on unplug, and hands finished recordings to ingest."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from dam.actors.camera import NAMESPACE, CameraActor, recordings_dir
from dam.actors.sources import spec_for, stable_id
from dam.cameras import store
from dam.config import Settings
from dam.library import Library
from dam.runtime.catalog import open_catalog

MANAGER = "dam-cameras"


def camera_actor_name(cam_id: str) -> str:
    return f"dam-camera-{cam_id}"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3, max_concurrency=16)
class CameraManager:
    def __init__(self, settings: dict, library=None):
        self.settings = Settings(**settings)
        self.catalog = open_catalog(self.settings)
        self.library = library  # the LibraryService handle under `dam serve`; None: ingest here
        self.cams: dict[str, ray.actor.ActorHandle] = {}
        self.ingested: list[dict] = []
        self._lock = threading.RLock()
        self._ingest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera-ingest")
        store.stop_all(self.catalog)  # a new (or restarted) manager runs no camera yet
        for uri in self.settings.camera_sources:
            self.plug(uri)

    # --- plug / unplug ---------------------------------------------------------------------------

    def plug(self, uri: str, node_id: str | None = None, resources: dict | None = None,
             name: str | None = None) -> str:
        """Start (or keep) the camera for `uri`; returns its stable id."""
        spec = spec_for(uri, name)
        with self._lock:
            row = store.camera(self.catalog, spec.id)
            store.plugged(self.catalog, spec.id, spec.name, uri, node_id)
            if spec.id in self.cams:
                return spec.id
            opts: dict = {"name": camera_actor_name(spec.id), "namespace": NAMESPACE, "get_if_exists": True}
            if node_id:
                opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
            if resources:
                opts["resources"] = resources
            conf = row["settings"] if row else {}
            self.cams[spec.id] = CameraActor.options(**opts).remote(
                spec.model_dump(), self.settings.model_dump(mode="json"), conf, MANAGER)
            return spec.id

    def missing(self, cam_ids: list[str]) -> list[str]:
        """The ids a watcher believes plugged that run no actor (the manager was restarted)."""
        return [c for c in cam_ids if c not in self.cams]

    def unplug(self, cam_id: str) -> list[str]:
        """Stop the camera: its clip in progress is finalised (and ingested), the actor ends."""
        with self._lock:
            handle = self.cams.pop(cam_id, None)
        if handle is None:
            return []
        try:
            clips = ray.get(handle.stop.remote(), timeout=120)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            clips = []
        store.touch(self.catalog, cam_id, state="unplugged")
        ray.kill(handle, no_restart=True)
        return clips

    def unplug_uri(self, uri: str) -> list[str]:
        return self.unplug(stable_id(uri))

    def shutdown(self) -> None:
        for cam_id in list(self.cams):
            self.unplug(cam_id)
        self._ingest.shutdown(wait=True)

    # --- recordings ------------------------------------------------------------------------------

    def on_recording(self, cam_id: str, path: str) -> None:
        store.recorded(self.catalog, cam_id)
        if self.settings.camera_ingest_levels != "off":
            self._ingest.submit(self._ingest_clip, cam_id, path)

    def _ingest_clip(self, cam_id: str, path: str) -> None:
        levels = self.settings.camera_ingest_levels
        try:
            if self.library is not None:
                out = self.library.start_ingest.remote([path], levels).result()
                entry = {"camera": cam_id, "path": path, "job": out["job"], "errors": out["errors"]}
            else:
                lib = Library(self.settings)
                try:
                    report = lib.ingest([path], implicit_root=not self.settings.media_roots, levels=levels)
                finally:
                    lib.close()
                entry = {"camera": cam_id, "path": path, "job": report.job,
                         "errors": [e.model_dump() for e in report.errors]}
        except Exception as e:  # the clip stays on disk; a later `dam ingest` picks it up
            entry = {"camera": cam_id, "path": path, "job": None, "errors": [{"reason": f"{type(e).__name__}: {e}"}]}
        self.ingested.append(entry)

    def ingest_log(self) -> list[dict]:
        return list(self.ingested)

    # --- reads -----------------------------------------------------------------------------------

    def cameras(self) -> list[dict]:
        """Every camera the catalog knows, with live state from its actor when it runs."""
        rows = store.cameras(self.catalog)
        live = {cid: h.info.remote() for cid, h in self.cams.items()}
        out = []
        for r in rows:
            r["folder"] = str(recordings_dir(self.settings, r["id"]))
            r.update(kind=None, error=None, fps=0.0, frames=0, dropped=0, motion=False, recording=False, clips=[])
            ref = live.get(r["id"])
            if ref is not None:
                try:
                    info = ray.get(ref, timeout=10)
                    r.update({k: info[k] for k in ("kind", "node", "state", "error", "fps", "frames", "dropped", "motion",
                                                   "recording")})
                    r["clips"] = info["recordings"]
                except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as e:
                    r.update(state="error", error=type(e).__name__)
            elif r["state"] == "running":
                r["state"] = "stopped"
            out.append(r)
        return out

    def camera(self, cam_id: str) -> list | None:
        """[handle] of a running camera (in a list, so Ray passes the handle itself)."""
        h = self.cams.get(cam_id)
        return None if h is None else [h]

    def configure(self, cam_id: str, settings: dict) -> dict:
        """Persist per-camera settings (they survive re-plugging) and apply them live."""
        merged = store.configure(self.catalog, cam_id, settings)
        if merged is None:
            raise KeyError(cam_id)
        h = self.cams.get(cam_id)
        if h is not None:
            ray.get(h.configure.remote(merged))
        return merged


def start_manager(settings: Settings, library=None):
    """The cluster's camera manager (created once; later calls get the same actor)."""
    return CameraManager.options(name=MANAGER, namespace=NAMESPACE, get_if_exists=True).remote(
        settings.model_dump(mode="json"), library)


def get_manager():
    try:
        return ray.get_actor(MANAGER, namespace=NAMESPACE)
    except ValueError:
        return None


def camera_folder(settings: Settings, cam_id: str) -> Path:
    return recordings_dir(settings, cam_id)
