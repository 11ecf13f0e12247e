"""Run by test_backfill_cluster in a subprocess (the test session already runs its own local Ray):
a three-node local Ray cluster (a head with no CPUs for stages, two workers with different
custom resources), the same footage backfilled four times:

- baseline: uninterrupted, in this process (which stages ran on which nodes);
- faults: one stage actor's process SIGKILLed after the 2nd shard result, then a whole worker
  node removed after the 4th;
- driver: `python -m dam.datasets.backfill` (attached with RAY_ADDRESS only, as `ray job submit`
  does, Chroma as a server) SIGKILLed after its first asset is indexed, then resubmitted.

Each ends with the full consistency check. Prints what it saw as JSON; the test asserts on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

sys.path.insert(0, str(Path(__file__).parent))
from chroma_server import ChromaServer  # noqa: E402
from conftest import free_port  # noqa: E402

from dam.config import Settings  # noqa: E402
from dam.consistency import check_library  # noqa: E402
from dam.library import Library  # noqa: E402

WORKERS = [{"num_cpus": 4, "resources": {"site_a": 1}}, {"num_cpus": 4, "resources": {"site_b": 1}}]
KNOBS = {"shard_seconds": 2.0, "decode_concurrency": 2, "embed_concurrency": 2}


class At:
    """A Progress that runs actions at given counts of L1/L2 shard results ({2: kill_a, 4: kill_b})."""

    def __init__(self, actions: dict | None = None):
        self.actions, self.label, self.seen, self.info = dict(actions or {}), "", 0, {}
        self.shards_after = 0  # results that came back after the last action

    def start(self, label: str, total: float, unit: str = "files") -> None:
        self.label = label

    def advance(self, amount: float = 1, note: str = "") -> None:
        if not self.label.startswith("L1/L2"):
            return
        self.seen += 1
        if self.actions and self.seen in self.actions:
            action = self.actions.pop(self.seen)
            self.info[action.__name__] = action()
        elif self.info and not self.actions:
            self.shards_after += 1

    def finish(self) -> None:
        pass


def stage_actors() -> list[dict]:
    """Alive Ray Data stage actors: pid and node, from the GCS (no dashboard needed)."""
    out = []
    for a in ray._private.state.actors().values():
        if a["State"] == "ALIVE" and "MapWorker" in a["ActorClassName"]:
            out.append({"pid": a["Pid"], "node": a["Address"]["NodeID"], "name": a["ActorClassName"]})
    return out


def outcome(lib: Library) -> dict:
    rep = check_library(lib)
    return {"ok": rep.ok, "problems": [p.model_dump() for p in rep.problems], "pending": rep.pending,
            "failed": rep.failed, "vectors": rep.vectors, "indexed": rep.indexed,
            "assets": {a.name: [a.id, a.status, a.levels.get("L1"), a.levels.get("L2")]
                       for a in lib.catalog.assets()}}


def in_process(settings: Settings, footage: Path, progress: At) -> dict:
    lib = Library(settings)
    t0 = time.monotonic()
    report = lib.ingest([footage], levels="L2", progress=progress)
    out = {"report": report.model_dump(mode="json", exclude={"assets"}), "seconds": time.monotonic() - t0,
           "fired": progress.info, "shards_after": progress.shards_after, **outcome(lib)}
    lib.close()
    return out


def main(footage: str, work: str) -> None:
    footage_dir, work_dir = Path(footage), Path(work)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "gcs_server_port": free_port(),
                                                           "include_dashboard": False})
    workers = [cluster.add_node(**w) for w in WORKERS]
    chroma = None
    out: dict = {}
    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        cluster.wait_for_nodes()
        out["head"] = ray.get_runtime_context().get_node_id()
        out["workers"] = [w.node_id for w in workers]

        def settings(name: str, **kw) -> Settings:
            return Settings(data_dir=work_dir / name, media_roots=[footage_dir], ray_address=cluster.address,
                            **KNOBS, **kw)

        out["baseline"] = in_process(settings("baseline"), footage_dir, At())

        def kill_worker() -> dict:
            victim = stage_actors()[0]
            os.kill(victim["pid"], signal.SIGKILL)
            return victim

        def kill_node() -> dict:
            actors = stage_actors()
            k = max((0, 1), key=lambda i: sum(a["node"] == workers[i].node_id for a in actors))
            victim = workers[k]  # the busier worker
            cluster.remove_node(victim, allow_graceful=False)
            return {"node": victim.node_id, "index": k,
                    "stage_actors_there": sum(a["node"] == victim.node_id for a in actors)}

        # One run, two faults (each a full run costs minutes on a 2-core machine): a stage actor's
        # process killed after the 2nd shard result, then a whole worker node after the 4th.
        out["faults"] = in_process(settings("faults"), footage_dir, At({2: kill_worker, 4: kill_node}))
        k = out["faults"]["fired"]["kill_node"]["index"]
        workers[k] = cluster.add_node(**WORKERS[k])  # what an autoscaler does; the driver runs get two workers
        cluster.wait_for_nodes()

        chroma = ChromaServer(work_dir / "chroma", free_port()).start()
        drv = settings("driver", chroma_url=chroma.url)
        # What `ray job submit` gives a driver: the cluster's address and its auth settings (Ray turns
        # token auth on for clusters started from a process that has a token), none of our DAM_ ones.
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAM_") and k != "RAY_ADDRESS"}
        env.update(RAY_ADDRESS=cluster.address, DAM_DATA_DIR=str(drv.data_dir), DAM_CHROMA_URL=chroma.url,
                   DAM_MEDIA_ROOTS=str(footage_dir), DAM_SHARD_SECONDS=str(KNOBS["shard_seconds"]),
                   DAM_DECODE_CONCURRENCY="2", DAM_EMBED_CONCURRENCY="2")
        cmd = [sys.executable, "-m", "dam.datasets.backfill", "--levels", "L2", "--json", str(footage_dir)]
        log = open(work_dir / "driver.log", "w")
        first = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        from dam.runtime.catalog_actor import RemoteCatalog

        total = len([p for p in footage_dir.iterdir() if p.is_file()])
        killed_at = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and first.poll() is None:
            try:
                n = RemoteCatalog(drv.catalog_path).rows("SELECT count(*) n FROM assets WHERE status = 'indexed'")[0]["n"]
            except ValueError:  # the driver has not started the catalog actor yet
                n = 0
            if n >= 1:
                first.send_signal(signal.SIGKILL)
                killed_at = n
                break
            time.sleep(0.05)
        first.wait(60)
        log.close()
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
        (work_dir / "driver2.log").write_text(second.stdout + second.stderr)
        lines = [x for x in second.stdout.splitlines() if x.startswith("{")]
        lib = Library(drv)
        out["driver"] = {"indexed_at_kill": killed_at, "total": total, "first_rc": first.returncode,
                         "first_log": (work_dir / "driver.log").read_text()[-3000:] if first.returncode != -9 else "",
                         "rc": second.returncode, "report": json.loads(lines[-1]) if lines else None,
                         "catalog_mode": lib.catalog.mode, "jobs": sorted(j.status for j in lib.catalog.jobs(10)),
                         **outcome(lib)}
        lib.close()
        print("RESULT " + json.dumps(out, default=str), flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
        if chroma is not None:
            chroma.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
