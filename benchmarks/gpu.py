"""GPU figures, for a machine with CUDA (skipped elsewhere):

- the pipeline's decode + shots + embed throughput, every frame embedded, ÷ the encoder's
  standalone throughput at the same batch size on frames already in memory;
- GPU utilisation and memory while the pipeline runs;
- the ingest compute (decode, shots, embed at the default sample rate) in video seconds per
  wall second ÷ `ray.data.read_videos` merely reading the same files.

The encoder is CLIP ViT-B-32 with randomly initialised weights (none can be downloaded here):
the same arithmetic as real weights, so the same speed; its vectors mean nothing.
`DAM_BENCH_GPU_MEDIA` names a folder of 1080p videos with `.probe.json` sidecars made by
`python -m benchmarks.gpu --pack DIR` on a machine with ffmpeg (the GPU machine may have none).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

BATCH = 64


def run() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    import ray

    from dam.config import Settings
    from dam.datasets.pipeline import run_shards
    from dam.datasets.shards import plan_shards
    from dam.runtime.start import ensure_ray

    # The files repeat as further assets so model loading and actor start-up are paid once in a
    # batch of realistic size, for us and for the reference alike.
    repeat = int(os.environ.get("DAM_BENCH_GPU_REPEAT", "3"))
    media = Path(os.environ["DAM_BENCH_GPU_MEDIA"]) if "DAM_BENCH_GPU_MEDIA" in os.environ else None
    assets = [a.model_copy(update={"id": f"{a.id}-{k}"}) for k in range(repeat) for a in _assets(media)]
    cores = os.cpu_count() or 1
    video_seconds = sum(a.info.duration for a in assets)
    frames_total = sum(a.info.video.frame_count or 0 for a in assets)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = _random_clip(Path(tmp))
        settings = Settings(data_dir=Path(tmp) / "data", encoder="clip", clip_checkpoint=str(ckpt),
                            decode_concurrency=max(1, cores - 2), shard_seconds=20, embed_batch_size=BATCH)
        ensure_ray(settings)
        standalone = _encoder_alone(settings, assets[0])

        def pipeline(s: Settings) -> tuple[float, int, dict]:
            shards = [row for a in assets for row in plan_shards(a, s.shard_seconds)]
            with GpuSampler() as gpu:
                t0 = time.perf_counter()
                embedded = sum(len(row["vectors"]) for row in run_shards(s, shards) if not row["error"])
                wall = time.perf_counter() - t0
            return wall, embedded, gpu.summary()

        agreement = _nvdec_agreement(settings, assets[0])
        pipeline(settings)  # warm: actors, CUDA context, cudnn autotune
        figures = {}
        for device in ("cpu", "cuda"):
            s = settings.model_copy(update={"decode_device": device})
            wall, embedded, gpu_dense = pipeline(s.model_copy(update={"sample_fps": 30.0}))
            wall_ingest, _, gpu_ingest = pipeline(s)
            figures[device] = {"every_frame_images_per_s": round(embedded / wall, 1),
                               "every_frame_vs_encoder_alone": round(embedded / wall / standalone["images_per_s"], 2),
                               "gpu_every_frame": gpu_dense, "ingest_video_s_per_s": round(video_seconds / wall_ingest, 2),
                               "gpu_ingest": gpu_ingest}
        t0 = time.perf_counter()
        ray.data.read_videos([a.path for a in assets]).count()
        ref = video_seconds / (time.perf_counter() - t0)
    for f in figures.values():
        f["ingest_vs_read_videos"] = round(f["ingest_video_s_per_s"] / ref, 2)
    best = max(figures.values(), key=lambda f: f["ingest_video_s_per_s"])
    return {
        "device": torch.cuda.get_device_name(0), "cores": cores, "batch": BATCH,
        "files": f"{len(assets)} × 1920x1080 H.264 25 fps ({repeat} passes over {len(assets) // repeat})", "video_seconds": round(video_seconds, 1),
        "frames": frames_total,
        "encoder_alone_images_per_s": standalone["images_per_s"],
        "model_forward_images_per_s": standalone["forward_images_per_s"],
        "read_videos_video_s_per_s": round(ref, 2), "decode_cpu": figures["cpu"], "decode_nvdec": figures["cuda"],
        "nvdec_vs_decord": agreement,
        "pipeline_vs_encoder_alone": max(f["every_frame_vs_encoder_alone"] for f in figures.values()),
        "ingest_vs_read_videos": best["ingest_vs_read_videos"],
    }


def _assets(folder: Path | None):
    import hashlib

    from benchmarks.media import hd_shots
    from dam.media.probe import probe
    from dam.schema import Asset, MediaInfo

    files = sorted(folder.glob("*.mp4")) if folder else hd_shots(4)
    out = []
    for p in files:
        side = p.with_suffix(".probe.json")
        info = MediaInfo.model_validate_json(side.read_text()) if side.exists() else probe(p)
        out.append(Asset(id=hashlib.blake2b(p.name.encode(), digest_size=8).hexdigest(), path=str(p), name=p.name, kind="video", content_hash=p.name,
                         size=p.stat().st_size, mtime=0, status="new", info=info, added_at=datetime.now(timezone.utc)))
    return out


def _nvdec_agreement(settings, asset) -> dict:
    """NVDEC and decord must give the pipeline the same pictures: mean absolute difference of
    the sampled and the tiny frames of one shard, in 8-bit levels. Each decoder runs in a process
    of its own (see dam.media.nvdec)."""
    import numpy as np
    import ray

    from dam.media.decode import decode_shard, decode_size, sample_indices
    from dam.media.nvdec import decode_shard_nvdec

    v = asset.info.video
    size = decode_size(v.width, v.height, settings.frame_size)
    end = min(v.frame_count or 500, 500)
    wanted = sample_indices(0, end, v.fps, 2.0)
    cpu = ray.remote(max_calls=1)(decode_shard)
    gpu = ray.remote(max_calls=1, num_gpus=0.1)(decode_shard_nvdec)
    a = ray.get(cpu.remote(Path(asset.path), 0, end, wanted, size, context=50, threads=0))
    b = ray.get(gpu.remote(Path(asset.path), 0, end, wanted, size, fps=v.fps, context=50))
    same = len(a.frames) == len(b.frames) and len(a.tiny) == len(b.tiny) and np.array_equal(a.index, b.index)
    diff = lambda x, y: round(float(np.abs(x.astype(np.int16) - y.astype(np.int16)).mean()), 2)  # noqa: E731
    return {"same_frames": same, "sampled_mean_abs_diff": diff(a.frames, b.frames) if same else None,
            "tiny_mean_abs_diff": diff(a.tiny, b.tiny) if same else None}


def _random_clip(folder: Path) -> Path:
    import open_clip
    import torch

    path = folder / "vit-b-32-random.pt"
    torch.save(open_clip.create_model("ViT-B-32").state_dict(), path)
    return path


def _encoder_alone(settings, asset) -> dict:
    """The encoder on frames already decoded at the pipeline's size: its ceiling."""
    import numpy as np
    import torch

    from dam.encoders import load_image_encoder
    from dam.media.decode import decode_frames, decode_size

    enc = load_image_encoder(settings)
    v = asset.info.video
    frames, _ = decode_frames(Path(asset.path), list(range(0, 20 * BATCH, 20)), decode_size(v.width, v.height, settings.frame_size))
    batches = [list(frames[i : i + BATCH]) for i in range(0, len(frames), BATCH)]
    for b in batches[:3]:
        enc.embed_images(b)
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 10:
        for b in batches:
            enc.embed_images(b)
            n += len(b)
    images_per_s = n / (time.perf_counter() - t0)
    x = torch.randn(BATCH, 3, 224, 224, device=enc.device, dtype=torch.float16)
    with torch.inference_mode():
        for _ in range(5):
            enc.model.encode_image(x)
        torch.cuda.synchronize()
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 5:
            enc.model.encode_image(x)
            n += BATCH
        torch.cuda.synchronize()
    del enc
    return {"images_per_s": round(images_per_s, 1), "forward_images_per_s": round(n / (time.perf_counter() - t0), 1),
            "frames": int(np.asarray(frames).shape[0])}


class GpuSampler:
    """Samples utilisation and memory with NVML every 100 ms while the block runs."""

    def __enter__(self):
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self._util: list[int] = []
        self._mem: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            self._util.append(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu)
            self._mem.append(self._nvml.nvmlDeviceGetMemoryInfo(self._handle).used)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        if not self._util:
            return {}
        return {"util_mean_pct": round(statistics.fmean(self._util), 1), "util_p90_pct": sorted(self._util)[int(0.9 * len(self._util))],
                "memory_peak_gib": round(max(self._mem) / 2**30, 2)}


def pack(folder: Path, count: int, crf: int) -> None:
    """Make the GPU run's media here, where ffmpeg is: small 1080p files plus probe sidecars."""
    import subprocess

    from benchmarks.media import shot_set
    from dam.media.probe import probe

    folder.mkdir(parents=True, exist_ok=True)
    for src, _, _ in shot_set(count):
        dest = folder / (src.stem + "_1080p.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", "scale=1920:1080:flags=bicubic",
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-an", str(dest)], check=True)
        dest.with_suffix(".probe.json").write_text(probe(dest).model_dump_json())


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, help="write the media folder for a GPU machine and stop")
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--crf", type=int, default=28)
    args = ap.parse_args()
    if args.pack:
        pack(args.pack, args.count, args.crf)
    else:
        print(json.dumps(run(), indent=2))
