"""Vectors in Chroma: embedded (one owner process) or a shared `chroma run` server.

Collections are named by level and vector space (`l1-builtin-v1`, `text-minilm-l6-v2`) so a
change of encoder never mixes spaces. Ids are `{asset}:{level}:{index}`: re-ingest upserts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from dam.config import Settings

LEVELS = ("l0", "l1", "l2", "text")


@dataclass
class Match:
    id: str
    score: float  # cosine similarity
    meta: dict


class VectorStore:
    def __init__(self, settings: Settings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_url:
            u = urlparse(settings.chroma_url)
            self.client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                              ssl=u.scheme == "https", settings=chroma_settings)
        else:
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(str(settings.chroma_path), settings=chroma_settings)
        self._cols: dict[str, object] = {}
        self._max_batch = max(1, min(self.client.get_max_batch_size(), 4096))

    def _col(self, level: str, key: str):
        name = f"{level}-{key}"
        if name not in self._cols:
            self._cols[name] = self.client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine", "ef_search": 400, "ef_construction": 400,
                                          "max_neighbors": 32}},  # recall@10 0.98 at 100k (benchmarks/search.py)
                embedding_function=None,
            )
        return self._cols[name]

    def _existing(self) -> list:
        return [self.client.get_collection(c.name if hasattr(c, "name") else c, embedding_function=None)
                for c in self.client.list_collections()]

    def upsert(self, level: str, key: str, ids: list[str], vectors: np.ndarray, metas: list[dict],
               documents: list[str] | None = None) -> None:
        col = self._col(level, key)
        for i in range(0, len(ids), self._max_batch):
            sl = slice(i, i + self._max_batch)
            col.upsert(ids=ids[sl], embeddings=np.asarray(vectors[sl], np.float32), metadatas=metas[sl],
                       documents=documents[sl] if documents else None)

    def delete_asset(self, asset_id: str, keep_key: str | None = None) -> None:
        """Remove an asset's vectors everywhere; with keep_key, only its visual vectors made by
        other encoders (what an encoder change leaves behind)."""
        for col in self._existing():
            if keep_key and (col.name.startswith("text-") or col.name.endswith(f"-{keep_key}")):
                continue
            col.delete(where={"asset_id": asset_id})

    def delete_ids(self, level: str, key: str, ids: list[str]) -> None:
        if ids:
            self._col(level, key).delete(ids=ids)

    def query(self, level: str, key: str, vector: np.ndarray, n: int, where: dict | None = None) -> list[Match]:
        col = self._col(level, key)
        try:  # no count() first: it costs as much as a small query
            res = col.query(query_embeddings=np.asarray(vector, np.float32)[None], n_results=n, where=where,
                            include=["metadatas", "distances"])
        except Exception:
            if col.count() == 0:  # an empty collection refuses queries
                return []
            raise
        return [Match(i, 1.0 - float(d), m) for i, d, m in zip(res["ids"][0], res["distances"][0], res["metadatas"][0])]

    def vectors_of(self, level: str, key: str, asset_id: str) -> tuple[list[str], np.ndarray, list[dict]]:
        res = self._col(level, key).get(where={"asset_id": asset_id}, include=["embeddings", "metadatas"])
        emb = res["embeddings"]
        vecs = np.asarray(emb, np.float32) if emb is not None and len(emb) else np.zeros((0, 0), np.float32)
        return res["ids"], vecs, res["metadatas"]

    def ids_of(self, level: str, key: str, asset_id: str) -> list[str]:
        return self._col(level, key).get(where={"asset_id": asset_id}, include=[])["ids"]

    def count(self, level: str, key: str) -> int:
        return self._col(level, key).count()
