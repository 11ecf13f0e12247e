"""Run by test_cameras in a subprocess (the test session already runs its own local Ray): a
two-node local cluster with different custom resources; cameras must land on their device's node."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster


def wait(fn, timeout=150.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(fn)


def main(video: str, work: str, port: int) -> None:
    from dam.actors.manager import start_manager
    from dam.actors.watcher import start_watchers
    from dam.config import Settings

    work_dir = Path(work)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"studio": 1}, "gcs_server_port": port})
    worker = cluster.add_node(num_cpus=1, resources={"camhost": 1})
    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        head_id = ray.get_runtime_context().get_node_id()
        worker_id = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] != head_id)
        assert worker.node_id == worker_id
        devices = work_dir / "dev-on-worker"
        devices.mkdir()
        settings = Settings(data_dir=work_dir / "data", media_roots=[work_dir / "media"], camera_record=False,
                            camera_ingest_levels="off")
        manager = start_manager(settings)
        # A watcher on the worker node only (on a real cluster each node watches its own /dev).
        watchers = start_watchers(devices, nodes=[worker_id], poll=0.2)
        shutil.copy(video, devices / ".incoming")
        (devices / ".incoming").rename(devices / "usb-Witness_Cam-video-index0")
        try:
            by_affinity = wait(lambda: [c for c in ray.get(manager.cameras.remote()) if c.get("frames")])[0]
        except TimeoutError:
            print(ray.get(watchers[0].state.remote()), ray.get(manager.cameras.remote()), file=sys.stderr)
            raise
        # A camera placed by custom resource instead (a URL camera reachable only from that host).
        rid = ray.get(manager.plug.remote(video, resources={"camhost": 0.01}, name="by resource"))
        by_resource = wait(lambda: [c for c in ray.get(manager.cameras.remote()) if c["id"] == rid and c.get("frames")])[0]
        print(json.dumps({"head": head_id, "worker": worker_id, "affinity": by_affinity, "resource": by_resource}))
        ray.get(manager.shutdown.remote())
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
