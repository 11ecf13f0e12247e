"""Search through HTTP: p50/p99 latency of POST /search/image with concurrent clients on
127.0.0.1 at 10k and 100k L1 vectors, and recall@10 of Chroma's HNSW answers against exact
brute force on the same vectors, for picture queries (as close to their source as a degraded
still) and for far queries (as far as a text query is from its pictures). The library is
synthetic but shaped like footage: assets of shots, frames clustered around their shot."""

from __future__ import annotations

import http.client
import io
import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from dam.catalog import Catalog
from dam.config import Settings
from dam.encoders.builtin import BuiltinEncoder
from dam.encoders.registry import search_ef
from dam.schema import MediaInfo, VideoStream
from dam.store import VectorStore

FRAMES_PER_ASSET, SHOTS_PER_ASSET = 100, 10


def build_library(settings: Settings, n_vectors: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dim = BuiltinEncoder.dim
    catalog, store = Catalog(settings.catalog_path), VectorStore(settings)
    info = MediaInfo(kind="video", container="mov,mp4", duration=100.0, size=1,
                     video=VideoStream(width=1920, height=1080, fps=25.0))
    all_vecs = []
    for a in range(n_vectors // FRAMES_PER_ASSET):
        aid = f"{a:016x}"
        catalog.upsert_asset(aid, aid * 2, f"/bench/clip_{a:05d}.mp4", 1, 0.0, info)
        catalog.set_asset(aid, status="indexed", encoder=BuiltinEncoder.key)
        centres = rng.normal(size=(SHOTS_PER_ASSET, dim))
        shot = np.repeat(np.arange(SHOTS_PER_ASSET), FRAMES_PER_ASSET // SHOTS_PER_ASSET)
        vecs = centres[shot] + 0.35 * rng.normal(size=(FRAMES_PER_ASSET, dim))
        vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
        store.upsert("l1", BuiltinEncoder.key, [f"{aid}:l1:{i}" for i in range(FRAMES_PER_ASSET)], vecs,
                     [{"asset_id": aid, "t": float(i), "frame": i * 25, "scene": int(shot[i]), "encoder": "bench"}
                      for i in range(FRAMES_PER_ASSET)])
        all_vecs.append(vecs)
    catalog.close()
    return np.concatenate(all_vecs)


# Query = a library vector plus noise. 0.045 per dimension puts it at cosine ~0.77 from its source:
# the least similar of the cropped (8%), rescaled (1/3) and recompressed (JPEG 50) stills measured
# against their source frames with the builtin descriptor (median 0.90). 0.2 puts it at ~0.26,
# as far as a text query from the pictures CLIP finds for it: the far case, reported beside it.
STILL_NOISE, FAR_NOISE = 0.045, 0.2


def recall_at_10(settings: Settings, vectors: np.ndarray, noise: float = STILL_NOISE, queries: int = 200,
                 seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    store = VectorStore(settings)
    picks = rng.choice(len(vectors), queries, replace=False)
    q = vectors[picks] + noise * rng.normal(size=(queries, vectors.shape[1])).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ids = np.array([f"{i // FRAMES_PER_ASSET:016x}:l1:{i % FRAMES_PER_ASSET}" for i in range(len(vectors))])
    hits = 0
    for qv in q:
        exact = set(ids[np.argsort(-(vectors @ qv))[:10]])
        found = {m.id for m in store.query("l1", BuiltinEncoder.key, qv, 10)}
        hits += len(exact & found)
    return hits / (10 * queries)


def query_images(count: int = 16) -> list[bytes]:
    from PIL import Image

    rng = np.random.default_rng(2)
    out = []
    for _ in range(count):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(buf, format="JPEG")
        out.append(buf.getvalue())
    return out


def multipart(image: bytes, boundary: str = "dam-bench-boundary") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def load(base_url: str, clients: int = 8, per_client: int = 40) -> list[float]:
    """A bounded load: `clients` threads, each sending `per_client` requests one after another
    over one keep-alive connection. The requests are built once: the load generator shares the
    two cores with the server, so it should take as little of them as a native tool would (an
    httpx client took 1.9 ms of CPU per request here, this one 0.3 ms)."""
    url = urlsplit(base_url)
    bodies = [multipart(im) for im in query_images()]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            for i in range(per_client):
                body, ctype = bodies[(k + i) % len(bodies)]
                t0 = time.perf_counter()
                conn.request("POST", "/search/image?limit=10", body, {"Content-Type": ctype})
                r = conn.getresponse()
                data = r.read()
                dt = time.perf_counter() - t0
                ok = r.status == 200 and (i or json.loads(data)["hits"])  # the first answer is checked in full
                with lock:
                    latencies.append(dt) if ok else failures.append(f"{r.status} {data[:200]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures or len(latencies) != clients * per_client:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[:1]}")
    return latencies


def add_scene_vectors(settings: Settings, vectors: np.ndarray) -> int:
    """One L2 vector per shot, the mean of its frames (as ingest makes them): a library's real
    shape, where a picture query searches both levels."""
    per_shot = FRAMES_PER_ASSET // SHOTS_PER_ASSET
    l2 = vectors.reshape(-1, per_shot, vectors.shape[1]).mean(axis=1)
    l2 = (l2 / np.linalg.norm(l2, axis=1, keepdims=True)).astype(np.float32)
    shots = [(f"{i // SHOTS_PER_ASSET:016x}", i % SHOTS_PER_ASSET) for i in range(len(l2))]
    seconds = FRAMES_PER_ASSET // SHOTS_PER_ASSET  # build_library puts a frame at every second
    VectorStore(settings).upsert("l2", BuiltinEncoder.key, [f"{a}:l2:{k}" for a, k in shots], l2,
                                 [{"asset_id": a, "scene": k, "start": float(k * seconds),
                                   "end": float((k + 1) * seconds), "encoder": "bench"} for a, k in shots])
    return len(l2)


def measure(settings: Settings, clients: tuple[int, ...]) -> dict:
    """Serve the library, warm it up, then p50/p99 and throughput at each client count."""
    from ray import serve

    from dam.serve.app import run as serve_app

    serve_app(settings, blocking=False)
    base = f"http://127.0.0.1:{settings.port}"
    warm_until = time.perf_counter() + 10  # warm up: replicas, caches, HNSW pages, Ray's own start-up work
    while time.perf_counter() < warm_until:
        load(base, clients=2, per_client=10)
    runs = {}
    for c in clients:
        t0 = time.perf_counter()
        lat = np.asarray(load(base, clients=c)) * 1000
        wall = time.perf_counter() - t0
        runs[f"{c}_clients"] = {"requests": len(lat), "p50_ms": round(float(np.percentile(lat, 50)), 1),
                                "p99_ms": round(float(np.percentile(lat, 99)), 1),
                                "throughput_rps": round(len(lat) / wall, 1)}
    serve.shutdown()  # Chroma's one process goes with it: the library can be changed, or the next one served
    return runs


def run(sizes: tuple[int, ...] = (10_000, 100_000), clients: tuple[int, ...] = (1, 2, 4)) -> dict:
    out = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            settings = Settings(data_dir=Path(tmp) / "data", media_roots=[Path(tmp)], port=port)
            t0 = time.perf_counter()
            vectors = build_library(settings, n)
            build_s = time.perf_counter() - t0
            recall = recall_at_10(settings, vectors)
            far = recall_at_10(settings, vectors, FAR_NOISE)
            runs = measure(settings, clients)
            out[f"{n // 1000}k"] = {"vectors": n, "recall_at_10": round(recall, 3),
                                    "recall_at_10_far_queries": round(far, 3),
                                    "ef_search": search_ef(BuiltinEncoder.key), "build_s": round(build_s, 1), **runs}
            if n == max(sizes):
                scenes = add_scene_vectors(settings, vectors)
                out[f"{n // 1000}k"]["with_scene_vectors"] = {"l2_vectors": scenes, **measure(settings, clients[-1:])}
    return out
