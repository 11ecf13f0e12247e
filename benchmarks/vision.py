"""The default vision encoder against the builtin descriptor alone, on real photographs that ship
inside PyPI packages (scikit-image, scikit-learn, matplotlib), played as a video with slow zooms
and hard cuts. All ratios come from one run on one machine:

- text -> shot recall@1 for queries naming each picture's subject and its synonyms (two ways of
  answering them: label-space vectors in Chroma, the shipped way, and top-k labels as tags);
- query-by-picture recall@1 under the perturbations users apply (crop to 70 %, flip, +-15 %
  brightness, 200 px wide, JPEG q40, a moment between two sampled frames of a zoom), on the
  photographs and on generated footage (dam.samples' moving test patterns, one shot each);
- ingest speed, 1080p H.264 on CPU, video s per wall s with the vision stage / without it;
- images/s of the encoder on CPU (ONNX Runtime vs PyTorch; the builtin descriptor for scale).

`python -m benchmarks.run --only vision`."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from dam.samples import LOOKS, Shot, make_video

SECONDS = 4  # each photo held this long, slowly zooming in

# subject -> (its queries, including synonyms; whether ImageNet has a class for it)
QUERIES: dict[str, tuple[list[str], bool]] = {
    "cat": (["a cat", "kitten", "tabby cat"], True),
    "coffee": (["espresso", "a cup of coffee", "coffee"], True),
    "motorcycle": (["motorcycle", "motorbike", "scooter"], True),
    "rocket": (["a rocket", "missile", "rocket on the launch pad"], True),
    "cameraman": (["a camera on a tripod", "tripod", "photographer"], True),
    "officer": (["military uniform", "navy officer"], True),
    "palace": (["palace", "chinese temple"], True),
    "flower": (["daisy", "a flower"], True),
    "astronaut": (["astronaut", "an astronaut in a spacesuit"], False),
}


def photographs() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    import skimage.data
    from PIL import Image
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as im:
        hopper = np.asarray(im.convert("RGB"))
    return {"cat": skimage.data.chelsea(), "coffee": skimage.data.coffee(),
            "motorcycle": skimage.data.stereo_motorcycle()[0], "rocket": skimage.data.rocket(),
            "cameraman": np.stack([skimage.data.camera()] * 3, axis=-1), "officer": hopper, "palace": china,
            "flower": flower, "astronaut": skimage.data.astronaut()}


def reel(path: Path, pictures: dict[str, np.ndarray], size: tuple[int, int] = (640, 360), crf: int = 23) -> Path:
    """Each photo SECONDS long with a slow zoom (to 115 %), hard cuts between them."""
    from PIL import Image

    w, h = size
    inputs, graph = [], ""
    for i, im in enumerate(pictures.values()):
        still = path.parent / f".{path.stem}-{i}.png"
        Image.fromarray(np.ascontiguousarray(im[:, :, :3])).save(still)
        inputs += ["-i", str(still)]
        frames = SECONDS * 25
        graph += (f"[{i}:v]scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},"
                  f"zoompan=z='1+0.15*on/{frames}':d={frames}:s={w}x{h}:fps=25:x='iw/2-(iw/zoom/2)':"
                  f"y='ih/2-(ih/zoom/2)',setsar=1,format=yuv420p[v{i}];")
    n = len(pictures)
    graph += "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[out]"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]", "-c:v",
                    "libx264", "-preset", "veryfast", "-crf", str(crf), str(path)], check=True)
    return path


def perturbations(frame: np.ndarray) -> dict[str, np.ndarray]:
    h, w = frame.shape[:2]
    ok, buf = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
    return {"crop 70%": frame[int(h * .15): int(h * .85), int(w * .15): int(w * .85)],
            "flip": frame[:, ::-1], "+15% brightness": np.clip(frame * 1.15, 0, 255).astype(np.uint8),
            "-15% brightness": (frame * 0.85).astype(np.uint8),
            "200 px wide": cv2.resize(frame, (200, round(200 * h / w)), interpolation=cv2.INTER_AREA),
            "jpeg q40": cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]}


def still(video: Path, at: float) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", "-f",
                          "image2pipe", "-vcodec", "png", "-"], capture_output=True, check=True).stdout
    return cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]


def subject_at(t: float, names: list[str]) -> str:
    return names[min(int(t // SECONDS), len(names) - 1)]


def _library(root: Path, encoder: str):
    from dam.config import Settings
    from dam.library import Library

    return Library(Settings(data_dir=root / f"data-{encoder}", encoder=encoder, shard_seconds=60))


def _tags_search(lib, query: str, names: list[str]) -> str | None:
    """The other way compared: each shot's top-3 classes and their categories as tags, matched
    by the words of the query (what a tag search in the catalog would do)."""
    from dam.encoders.labels import category, class_names
    from dam.encoders.vision import probabilities

    a = lib.catalog.recent(1)[0]
    words = {w for w in query.lower().replace("-", " ").split() if len(w) > 2}
    ids, vecs, _ = lib.store.vectors_of("l2", lib.key, a.id)
    scenes = {s.index: s for s in lib.catalog.scenes(a.id)}
    best, where = 0.0, None
    for i, vec in zip(ids, vecs):
        s = scenes[int(i.rsplit(":", 1)[1])]
        p = probabilities(np.asarray(vec))
        score = 0.0
        for c in np.argsort(-p)[:3]:
            tags = {*" ".join(class_names()[c]).lower().split(), *(category(int(c)) or "").split()}
            if words & tags:
                score += float(p[c])
        if score > best:
            best, where = score, subject_at((s.start + s.end) / 2, names)
    return where


def picture_recall(lib, video: Path, names: list[str]) -> dict:
    """Recall@1 of query by picture: a still of each shot under every perturbation, and a moment
    between two sampled frames, must find its own shot first."""
    picture: dict[str, list[int]] = {}
    for i, subject in enumerate(names):
        cases = perturbations(still(video, i * SECONDS + 1.0))
        cases["between sampled frames"] = still(video, i * SECONDS + 2.5)
        for case, im in cases.items():
            hits = lib.search(image=im, limit=1)
            ok = bool(hits) and subject_at((hits[0].start + hits[0].end) / 2, names) == subject
            picture.setdefault(case, [0, 0])
            picture[case][0] += ok
            picture[case][1] += 1
    return {"picture_queries": sum(v[1] for v in picture.values()),
            "picture_recall_at_1": round(sum(v[0] for v in picture.values()) / sum(v[1] for v in picture.values()), 3),
            "picture_by_case": {k: round(v[0] / v[1], 3) for k, v in picture.items()}}


def run(keep: bool = False) -> dict:
    from dam.encoders.builtin import BuiltinEncoder
    from dam.encoders.vision import VisionEncoder

    pics = photographs()
    names = list(pics)
    root = Path(tempfile.mkdtemp(prefix="dam-vision-bench-"))
    out: dict = {"pictures": {n: list(im.shape) for n, im in pics.items()}}
    try:
        media = root / "media"
        media.mkdir()
        video = reel(media / "photos.mp4", pics)
        # --- encoder speed on CPU --------------------------------------------------------------
        frames = [still(video, i * SECONDS + 1.3) for i in range(len(names))] * 4
        speed = {}
        for label, enc in (("onnx", VisionEncoder(backend="onnx")), ("torch", VisionEncoder(backend="cpu"))):
            enc.infer(frames[:2])
            t0 = time.perf_counter()
            enc.infer(frames)
            speed[f"vision_{label}_images_per_s"] = round(len(frames) / (time.perf_counter() - t0), 1)
        t0 = time.perf_counter()
        BuiltinEncoder().embed_images(frames)
        speed["builtin_images_per_s"] = round(len(frames) / (time.perf_counter() - t0), 1)
        out["encoder_cpu"] = speed
        # --- text and picture queries against each library ----------------------------------------
        for encoder in ("builtin", "vision"):
            lib = _library(root, encoder)
            lib.ingest([media], implicit_root=True)
            text = {"known": [0, 0], "unknown_noticed": [0, 0], "misses": []}
            tags = [0, 0]
            for subject, (queries, known) in QUERIES.items():
                for q in queries:
                    qv = lib.encode_query(q)
                    hits = lib.search(q, limit=1, query=qv)
                    picture = [h for h in hits if h.why.startswith("pictures")]
                    if known:
                        ok = bool(picture) and subject_at((picture[0].start + picture[0].end) / 2, names) == subject
                        text["known"][0] += ok
                        text["known"][1] += 1
                        if not ok:
                            text["misses"].append(q)
                        if encoder == "vision":
                            tags[0] += _tags_search(lib, q, names) == subject
                            tags[1] += 1
                    else:
                        from dam.search import unknown_subject

                        text["unknown_noticed"][0] += unknown_subject(q, qv.visual_text) is not None
                        text["unknown_noticed"][1] += 1
            out[encoder] = {
                "text_to_shot_recall_at_1": round(text["known"][0] / text["known"][1], 3),
                "text_misses": text["misses"],
                "unknown_subjects_noticed": f"{text['unknown_noticed'][0]}/{text['unknown_noticed'][1]}",
                **picture_recall(lib, video, names),
            }
            if encoder == "vision":
                out[encoder]["text_to_shot_recall_at_1_top3_tags"] = round(tags[0] / max(tags[1], 1), 3)
            lib.close()
        # --- query by picture on generated footage (moving test patterns, noise) -------------------
        generated = root / "generated"
        looks = list(LOOKS)
        patterns = generated / "looks.mp4"
        make_video(patterns, [Shot(look, SECONDS) for look in looks])
        for encoder in ("builtin", "vision"):
            lib = _library(root / "generated-libs", encoder)
            lib.ingest([generated], implicit_root=True)
            out[encoder]["generated"] = picture_recall(lib, patterns, looks)
            lib.close()
        out["subjects_without_a_class"] = [s for s, (_, known) in QUERIES.items() if not known]
        # --- ingest speed, 1080p H.264 on CPU ---------------------------------------------------
        hd = root / "hd"
        hd.mkdir()
        reel(hd / "photos-1080p.mp4", pics, size=(1920, 1080))
        rates = {}
        for encoder in ("builtin", "vision"):
            lib = _library(root / "hd-libs", encoder)
            t0 = time.perf_counter()
            report = lib.ingest([hd], implicit_root=True)
            rates[encoder] = report.video_seconds / (time.perf_counter() - t0)
            lib.close()
        out["ingest_1080p_video_s_per_s"] = {k: round(v, 2) for k, v in rates.items()}
        out["ratio"] = round(rates["vision"] / rates["builtin"], 3)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
