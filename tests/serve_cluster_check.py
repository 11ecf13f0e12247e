"""Run by test_serve_cluster in a subprocess (the test session already runs its own local Ray):
a two-node local Ray cluster, a real `chroma run`, the Serve app with two search replicas on
different nodes; searches from client threads while one replica is killed. Prints what it saw
as JSON; the test asserts on it."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import httpx
import ray
from ray import serve
from ray.cluster_utils import Cluster

sys.path.insert(0, str(Path(__file__).parent))
from chroma_server import ChromaServer  # noqa: E402
from conftest import free_port  # noqa: E402


def wait(fn, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(fn)


def replica_states() -> dict:
    app = serve.status().applications.get("dam")
    dep = app and app.deployments.get("Searcher")
    return {str(k.value if hasattr(k, "value") else k): v for k, v in (dep.replica_states if dep else {}).items()}


def main(footage: str, work: str) -> None:
    from dam.config import Settings
    from dam.serve.app import run

    work_dir = Path(work)
    chroma = ChromaServer(work_dir / "chroma", free_port()).start()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "gcs_server_port": free_port(),
                                                           "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    out: dict = {}
    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        cluster.wait_for_nodes()
        out["nodes"] = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
        out["head"] = ray.get_runtime_context().get_node_id()
        settings = Settings(data_dir=work_dir / "data", media_roots=[Path(footage)], chroma_url=chroma.url,
                            ray_address=cluster.address, search_replicas=2, port=free_port())
        assert settings.catalog_mode == "actor"
        run(settings, blocking=False)
        client = httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", timeout=60)
        r = client.post("/ingest", json={"paths": [footage], "levels": "L0"})
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        out["ingest"] = wait(lambda: (j := client.get(f"/jobs/{job}/status").json())["status"] in ("done", "failed") and j)
        out["replicas_before"] = wait(lambda: (s := replica_states()).get("RUNNING") == 2 and s)
        # Who answers searches over HTTP (the X-Served-By header names replica and node).
        answered = [client.get("/search", params={"q": "shots", "limit": 5}) for _ in range(40)]
        out["first"] = [{"status": x.status_code, "by": x.headers.get("x-served-by"),
                         "top": (x.json().get("hits") or [{}])[0].get("path")} for x in answered]
        names = [n for n in ray.util.list_named_actors(all_namespaces=True)
                 if n["namespace"] == "serve" and n["name"].startswith("SERVE_REPLICA::dam#Searcher#")]
        out["replica_actors"] = [n["name"] for n in names]

        # Under load from client threads, kill one search replica.
        results: list[dict] = []
        stop = threading.Event()

        def load() -> None:
            c = httpx.Client(base_url=client.base_url, timeout=30)
            while not stop.is_set():
                t = time.monotonic()
                try:
                    x = c.get("/search", params={"q": "shots", "limit": 5})
                    try:
                        body = x.json()
                    except ValueError:
                        body = {"not_json": x.text[:200]}
                    results.append({"t": t, "status": x.status_code, "by": x.headers.get("x-served-by"),
                                    "error": body.get("error"), "not_json": body.get("not_json")})
                except httpx.TransportError as e:
                    results.append({"t": t, "status": None, "transport": type(e).__name__})
            c.close()

        threads = [threading.Thread(target=load) for _ in range(4)]
        for th in threads:
            th.start()
        time.sleep(2)
        victim = names[0]["name"]
        out["victim"] = victim
        out["killed_at"] = time.monotonic()
        ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
        out["recovered_after"] = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # recovered: two running replicas, one of them new
            now = {n["name"] for n in ray.util.list_named_actors(all_namespaces=True)
                   if n["namespace"] == "serve" and n["name"].startswith("SERVE_REPLICA::dam#Searcher#")}
            if len(now) == 2 and victim not in now and replica_states() == {"RUNNING": 2}:
                out["recovered_after"] = time.monotonic() - out["killed_at"]
                out["replica_actors_after"] = sorted(now)
                break
            time.sleep(0.2)
        time.sleep(3)  # the replacement takes load too
        stop.set()
        for th in threads:
            th.join(60)
        out["load"] = results
        out["replicas_after"] = replica_states()
        out["after"] = [client.get("/search", params={"q": "shots", "limit": 5}) for _ in range(30)]
        out["after"] = [{"status": x.status_code, "by": x.headers.get("x-served-by")} for x in out["after"]]
        out["catalog_node"] = ray.get(ray.get_actor(
            __import__("dam.runtime.catalog_actor", fromlist=["actor_name"]).actor_name(settings.catalog_path),
            namespace="dam").where.remote())["node_id"]
        client.close()
        print("RESULT " + json.dumps(out, default=str))
    finally:
        try:
            serve.shutdown()
        except Exception:
            pass
        ray.shutdown()
        cluster.shutdown()
        chroma.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
