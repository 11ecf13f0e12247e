"""Robustness: whole card dumps of damaged and lying files (dam.damage, several seeds) mixed with
the good originals, ingested by the real `dam ingest --json`. Counts good files lost, bad files
neither indexed nor reported, and a second run's changes; all targets are 0. And the peak
memory a hostile picture request costs the server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from benchmarks.media import CACHE
from dam.damage import build

SEEDS = (17, 18)


def batch(seed: int) -> dict:
    root = CACHE / f"card_{seed}"
    sources, cases = build(root / "corpus", seed=seed)
    dump, data = root / "DCIM", root / "data"
    shutil.rmtree(dump, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    dump.mkdir(parents=True)
    for name, path in sources.items():
        shutil.copy(path, dump / f"good_{name}")
    for c in cases:
        shutil.copy(c.path, dump / c.path.name)
    env = {**os.environ, "DAM_DATA_DIR": str(data)}

    def ingest() -> tuple[int, dict, float]:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "dam.cli", "ingest", str(dump), "--json"], capture_output=True,
                           text=True, env=env)
        return r.returncode, json.loads(r.stdout), time.perf_counter() - t0

    rc, report, seconds = ingest()
    assets = {a["path"].rsplit("/", 1)[-1]: a for a in report["assets"]}
    errors = {e["path"].rsplit("/", 1)[-1]: e for e in report["errors"]}
    good_lost = [n for n in sources if f"good_{n}" in errors or not assets.get(f"good_{n}", {}).get("levels", {}).get("L0")]
    unreported = [c.path.name for c in cases if c.path.name not in errors and not assets.get(c.path.name)]
    check = subprocess.run([sys.executable, "-m", "dam.cli", "check", "--json"], capture_output=True, text=True, env=env)
    rc2, again, _ = ingest()
    return {"seed": seed, "files": len(sources) + len(cases), "bad": len(cases), "exit_code": rc,
            "seconds": round(seconds, 1), "indexed": report["indexed"], "damaged_salvaged": report["damaged"],
            "failed_with_reason": report["failed"], "good_lost": good_lost, "bad_unreported": unreported,
            "check_ok": check.returncode == 0, "second_run_indexed": again["indexed"]}


def _peak_kb(pid: int) -> int:
    """The process's peak resident memory (VmHWM): what a request made it reach, even briefly."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def hostile_picture(pixels: int = 9000) -> dict:
    """A 9000x9000 PNG (a few hundred KB of zeros) posted to `POST /search/image` of a real
    `dam serve`: the growth of the Api replica's peak memory, against what decoding it takes
    (Pillow, a fresh process, the same file)."""
    import httpx
    import psutil
    from PIL import Image

    root = CACHE / "hostile"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    png = root / "bomb.png"
    Image.new("RGB", (pixels, pixels)).save(png, optimize=True)
    ref = subprocess.run([sys.executable, "-c", "import resource, sys; from PIL import Image; "
                          "Image.MAX_IMAGE_PIXELS = None; Image.open(sys.argv[1]).load(); "
                          "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)", str(png)],
                         capture_output=True, text=True, check=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DAM_")},
           "DAM_DATA_DIR": str(root / "data"), "DAM_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "dam.cli", "serve", "--root", str(root)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if c.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        api = next(p for p in psutil.process_iter(["cmdline"]) if "ServeReplica:dam:Api" in " ".join(p.info["cmdline"] or []))
        before = _peak_kb(api.pid)
        t0 = time.perf_counter()
        r = c.post("/search/image", files={"file": ("bomb.png", png.read_bytes(), "image/png")})
        seconds = time.perf_counter() - t0
        after = _peak_kb(api.pid)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
    return {"pixels": f"{pixels}x{pixels}", "file_kb": png.stat().st_size // 1024, "status": r.status_code,
            "seconds": round(seconds, 3), "replica_peak_growth_mb": round((after - before) / 1024, 1),
            "decoding_it_peak_mb": round(int(ref.stdout) / 1024, 1)}


def run() -> dict:
    picture = hostile_picture()
    print(f"  hostile picture {picture['pixels']} ({picture['file_kb']} KB): HTTP {picture['status']} in "
          f"{picture['seconds']} s, replica peak +{picture['replica_peak_growth_mb']} MB "
          f"(decoding it: {picture['decoding_it_peak_mb']} MB)", flush=True)
    batches = [batch(s) for s in SEEDS]
    for b in batches:
        print(f"  card seed {b['seed']}: {b['files']} files ({b['bad']} bad), exit {b['exit_code']}, "
              f"{b['damaged_salvaged']} salvaged, {b['failed_with_reason']} reported, good lost {len(b['good_lost'])}, "
              f"unreported {len(b['bad_unreported'])}, check {'ok' if b['check_ok'] else 'PROBLEMS'}, "
              f"second run indexed {b['second_run_indexed']}", flush=True)
    return {"batches": batches, "damaged_files_tried": sum(b["bad"] for b in batches),
            "good_files_lost": sum(len(b["good_lost"]) for b in batches),
            "bad_files_unreported": sum(len(b["bad_unreported"]) for b in batches),
            "all_consistent": all(b["check_ok"] and b["second_run_indexed"] == 0 for b in batches),
            "hostile_picture": picture}
