"""The default vision encoder on real photographs (they ship inside scikit-image and scikit-learn):
what the model sees, text -> classes through MiniLM, and `dam search` finding the shot that shows
what the words name, through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from dam.config import Settings
from dam.encoders.labels import _RANGES, class_names, display_name, parents

SHOT_SECONDS = 3


def photos() -> dict[str, np.ndarray]:
    """Real photographs, in the order they are played: each subject and its shot."""
    grey = skimage.data.camera()
    return {"cat": skimage.data.chelsea(), "coffee": skimage.data.coffee(),
            "motorcycle": skimage.data.stereo_motorcycle()[0], "rocket": skimage.data.rocket(),
            "cameraman": np.stack([grey] * 3, axis=-1), "astronaut": skimage.data.astronaut()}


def photo_video(path: Path, pictures: dict[str, np.ndarray]) -> Path:
    """Each photo held SHOT_SECONDS, hard cuts between them, 640x360 H.264 (ffmpeg)."""
    from PIL import Image

    inputs = []
    for i, im in enumerate(pictures.values()):
        still = path.parent.parent / f"{path.stem}-{i}.png"  # outside the media folder
        Image.fromarray(np.ascontiguousarray(im[:, :, :3])).save(still)
        inputs += ["-loop", "1", "-t", str(SHOT_SECONDS), "-i", str(still)]
    n = len(pictures)
    graph = "".join(f"[{i}:v]scale=640:360:force_original_aspect_ratio=increase,crop=640:360,setsar=1,fps=25,"
                    f"format=yuv420p[v{i}];" for i in range(n))
    graph += "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[out]"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]",
                    "-c:v", "libx264", "-preset", "veryfast", str(path)], check=True)
    return path


def dam(*args, data: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "dam.cli", *args], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "DAM_DATA_DIR": str(data), **(env or {})})
    if check and r.returncode != 0:
        raise AssertionError(f"dam {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def encoder():
    from dam.encoders.vision import VisionEncoder

    return VisionEncoder(Settings())


def test_the_model_names_what_real_photographs_show(encoder):
    pics = photos()
    feats, probs = encoder.infer(list(pics.values()))
    top = {name: display_name(int(p.argmax())) for name, p in zip(pics, probs)}
    assert top["cat"] in {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"}, top
    assert top["coffee"] == "espresso", top
    assert top["motorcycle"] in {"moped", "motor scooter"}, top
    assert top["rocket"] in {"missile", "projectile", "space shuttle"}, top
    assert feats.shape == (len(pics), 1280) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)


def test_vectors_are_unit_norm_and_hold_their_class_probabilities(encoder):
    from dam.encoders.vision import probabilities

    pics = list(photos().values())
    _, probs = encoder.infer(pics)
    vecs = encoder.embed_images(pics)
    assert vecs.shape == (len(pics), encoder.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(probabilities(vecs), probs, atol=1e-4)  # read back from what Chroma stores
    assert encoder.embed_images([]).shape == (0, encoder.dim)


def test_onnx_runtime_and_pytorch_give_the_same_answer(encoder):
    """CPU runs the exported ONNX file (faster); it must be the network PyTorch runs."""
    from dam.encoders.vision import VisionEncoder

    pics = list(photos().values())[:3]
    f_onnx, p_onnx = encoder.infer(pics)
    f_torch, p_torch = VisionEncoder(Settings(), backend="cpu").infer(pics)
    assert np.allclose(f_onnx, f_torch, atol=1e-3) and np.allclose(p_onnx, p_torch, atol=1e-4)


def test_a_photo_survives_flip_brightness_small_size_and_jpeg(encoder):
    pics = photos()
    ref = encoder.embed_images(list(pics.values()))

    def variants(im):
        h, w = im.shape[:2]
        crop = im[int(h * .15): int(h * .85), int(w * .15): int(w * .85)]
        small = cv2.resize(im, (200, round(200 * h / w)), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", im[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
        return [crop, im[:, ::-1], np.clip(im * 1.15, 0, 255).astype(np.uint8),
                np.clip(im * 0.85, 0, 255).astype(np.uint8), small, cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]]

    for i, im in enumerate(pics.values()):
        sims = encoder.embed_images(variants(im[:, :, :3])) @ ref.T
        assert (sims.argmax(axis=1) == i).all(), (list(pics)[i], sims.round(3))


@pytest.mark.parametrize("query, expect", [
    ("a cat", {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}),
    ("kitten", {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}),
    ("espresso", {"espresso"}),
    ("motorbike", {"moped", "motor scooter"}),
    ("a rocket", {"missile", "projectile", "space shuttle"}),
    ("hot dog", {"hotdog"}),  # the pair, not the 130 dogs its second word names
])
def test_words_map_onto_the_classes_they_name(encoder, query, expect):
    named = {display_name(c) for c, _ in encoder.class_map().named(query, k=10)}
    assert named and named <= expect, named


@pytest.mark.parametrize("query", ["astronaut", "an astronaut on a spacewalk", "sunset", "city skyline", " ", "?!"])
def test_subjects_the_model_has_no_class_for_name_nothing(encoder, query):
    assert not np.any(encoder.embed_text([query])), encoder.class_map().named(query)


def test_every_category_range_starts_and_ends_where_its_names_say():
    """The hand-written parents cover the classes they claim (ImageNet's order, checked by name)."""
    names = [n[0] for n in class_names()]
    assert (names[281], names[285]) == ("tabby", "Egyptian cat")
    assert (names[151], names[268]) == ("Chihuahua", "Mexican hairless")
    assert (names[924], names[969]) == ("guacamole", "eggnog")
    assert (names[300], names[326]) == ("tiger beetle", "lycaenid")
    assert (names[365], names[384]) == ("orangutan", "indri")
    assert all(0 <= lo <= hi < 1000 for lo, hi, _ in _RANGES)
    assert "motorcycle" in parents()[665] and "cat" in parents()[285] and "dog" not in parents()[934]


# --- the `dam` command on a video of the photographs --------------------------------------------


@pytest.fixture(scope="module")
def reel(tmp_path_factory):
    """The photo video, indexed first with the builtin descriptor, then with the default: the
    library moves to the new vector space on its next ingest."""
    root = tmp_path_factory.mktemp("vision")
    media = root / "media"
    media.mkdir()
    video = photo_video(media / "photos.mp4", photos())
    data = root / "data"
    dam("ingest", str(media), "--json", data=data, env={"DAM_ENCODER": "builtin"})
    before = json.loads(dam("info", str(video), "--json", data=data).stdout)
    proxy = media / "photos_proxy.mp4"  # a small re-encode, as an editor's proxy
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", "scale=320:-2", "-c:v", "libx264", "-crf",
                    "34", "-preset", "veryfast", str(proxy)], check=True)
    report = json.loads(dam("ingest", str(media), "--json", data=data).stdout)
    return {"data": data, "video": video, "proxy": proxy, "before": before, "report": report}


def shot_of(hit: dict) -> str:
    names = list(photos())
    mid = (hit["start"] + hit["end"]) / 2
    return names[min(int(mid // SHOT_SECONDS), len(names) - 1)]


def test_an_earlier_library_moves_to_the_new_space_on_its_next_ingest(reel):
    from dam.encoders.vision import KEY

    assert reel["before"]["encoder"] == "builtin-v2"
    assert reel["report"]["indexed"] == 2 and reel["report"]["failed"] == 0  # the original, moved; the new proxy
    after = json.loads(dam("info", str(reel["video"]), "--json", data=reel["data"]).stdout)
    assert after["encoder"] == KEY and after["id"] == reel["before"]["id"]
    assert len(after["scenes"]) == len(photos())


@pytest.mark.parametrize("query, subject", [("a cat", "cat"), ("espresso", "coffee"), ("motorcycle", "motorcycle"),
                                            ("a camera on a tripod", "cameraman")])
def test_dam_search_finds_the_shot_that_shows_it(reel, query, subject):
    r = dam("search", query, "--json", data=reel["data"])
    hits = json.loads(r.stdout)
    assert hits and shot_of(hits[0]) == subject, hits
    assert hits[0]["why"].startswith(f"pictures show “{query}”"), hits[0]
    # the proxy is the same footage: stacked on the original, not a second result
    assert hits[0]["path"] == str(reel["video"]) and hits[0]["also_in"] == [str(reel["proxy"])], hits
    assert str(reel["proxy"]) not in [h["path"] for h in hits]
    assert "note:" not in r.stderr


def test_dam_search_says_when_the_model_knows_no_such_subject(reel):
    r = dam("search", "astronaut", "--json", data=reel["data"])
    assert "knows" in r.stderr and "astronaut" in r.stderr
    assert not [h for h in json.loads(r.stdout) if h["why"].startswith("pictures")]  # no picture noise


def test_query_by_a_flipped_brighter_still_finds_its_shot(reel, tmp_path):
    for name, im in list(photos().items())[:3]:
        h, w = im.shape[:2]
        still = np.clip(im[int(h * .15): int(h * .85), int(w * .15): int(w * .85), :3][:, ::-1] * 1.15, 0, 255)
        path = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(path), still.astype(np.uint8)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
        hits = json.loads(dam("search", "--image", str(path), "--json", data=reel["data"]).stdout)
        assert shot_of(hits[0]) == name, (name, hits[:2])


def test_enrichment_names_what_each_shot_shows_and_labels_are_searchable(reel):
    dam("enrich", str(reel["video"]), data=reel["data"])
    view = json.loads(dam("tag", str(reel["video"]), "--json", data=reel["data"]).stdout)
    shots = {int(i): {lb["name"] for lb in labels if lb["source"] == "vision"} for i, labels in view["scenes"].items()}
    assert "cat" in shots[0] and shots[0] & {"tabby", "tiger cat", "Egyptian cat"}, shots
    assert "espresso" in shots[1] and "motorcycle" in shots[2], shots
    assert not shots.get(5, set()) & {"cat", "espresso", "motorcycle"}  # the astronaut shot claims none of them
    cat = next(lb for lb in view["labels"] if lb["name"] == "cat")  # the asset's label says where it is seen
    assert len(cat["seen"]) == 1 and cat["seen"][0][0] < 0.5 and abs(cat["seen"][0][1] - SHOT_SECONDS) < 0.5, cat
    assert "a cat (" in view["description"] and "a drink (espresso)" in view["description"], view["description"]
    hits = json.loads(dam("search", "Egyptian cat", "--json", data=reel["data"]).stdout)
    assert hits and shot_of(hits[0]) == "cat", hits
