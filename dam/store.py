"""Vectors in Chroma: embedded (one owner process) or a shared `chroma run` server.

Collections are named by level and vector space (`l1-builtin-v1`, `text-minilm-l6-v2`) so a
change of encoder never mixes spaces. Ids are `{asset}:{level}:{index}`: re-ingest upserts.

A server can go away (restart, network) while an ingest writes: every call waits and retries
with backoff for up to `chroma_retry_seconds`, saying so in the log and to `on_wait` (the job's
progress), then raises `StoreUnavailable`. Retrying is safe because every write is an upsert or
a delete by id: a write the server applied before the connection dropped is simply applied again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlparse

import numpy as np

from dam.config import Settings
from dam.encoders.registry import search_ef

LEVELS = ("l0", "l1", "l2", "text")
log = logging.getLogger("dam.store")
T = TypeVar("T")


def vector_id(asset_id: str, kind: str, index: int = 0) -> str:
    """A vector's id: the asset, its kind (l0, l1, l2, text, speech) and index. Derived, never
    random, so re-ingest is an upsert, and `dam check` can tell which vectors an asset should have."""
    return f"{asset_id}:{kind}:{index}"


class StoreUnavailable(Exception):
    """The Chroma server stayed unreachable past the retry limit. Not an OSError/RuntimeError on
    purpose: ingest must fail the job (resubmit finishes it), not mark the asset as broken."""


def _transient(e: BaseException) -> bool:
    """Connection-level failures (refused, reset, timed out): the server is down or restarting."""
    import httpx

    return isinstance(e, httpx.TransportError)


def _busy(e: BaseException) -> bool:
    """SQLite refused a write at once ("database is locked"): its guard against two connections
    deadlocking, which Chroma's own busy timeout does not wait out. Run again, it goes through."""
    return "database is locked" in str(e)


BUSY_TRIES = 10  # 0.05 s doubling to 1 s: ~6 s in all


@dataclass
class Match:
    id: str
    score: float  # cosine similarity
    meta: dict


class VectorStore:
    def __init__(self, settings: Settings, on_wait: Callable[[str | None], None] | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.url = settings.chroma_url
        self.retry_seconds = settings.chroma_retry_seconds
        self.on_wait = on_wait  # called with a message while waiting for the server, None when it is back
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_url:
            u = urlparse(settings.chroma_url)
            self.client = self._retry("connect", lambda: chromadb.HttpClient(
                host=u.hostname or "localhost", port=u.port or 8000, ssl=u.scheme == "https", settings=chroma_settings))
        else:
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(str(settings.chroma_path), settings=chroma_settings)
        self._cols: dict[str, object] = {}
        self._max_batch = max(1, min(self._retry("connect", self.client.get_max_batch_size), 4096))

    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        """Run one Chroma call; while the server is unreachable, wait (0.5 s doubling to 5 s)
        up to `retry_seconds` in all, then raise StoreUnavailable. A busy database is tried again."""
        waited, delay, busy = 0.0, 0.5, 0
        while True:
            try:
                out = fn()
            except Exception as e:
                if _busy(e) and busy < BUSY_TRIES:
                    log.info("Chroma's database was busy (%s); trying again", what)
                    time.sleep(min(0.05 * 2 ** busy, 1.0))
                    busy += 1
                    continue
                if not self.url or not _transient(e):
                    raise
                if waited >= self.retry_seconds:
                    raise StoreUnavailable(
                        f"the Chroma server at {self.url} was unreachable for {waited:.0f}s ({what}: "
                        f"{type(e).__name__}: {e}); start it and resubmit: finished work is kept") from e
                msg = (f"waiting for the Chroma server at {self.url} ({what}: {type(e).__name__}); "
                       f"retrying in {delay:.1f}s, {waited:.0f}s of {self.retry_seconds:.0f}s")
                log.warning(msg)
                self._notify(msg)
                time.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)
                continue
            if waited:
                log.warning("the Chroma server at %s is back after %.0fs; %s resumed", self.url, waited, what)
                self._notify(None)
            return out

    def _notify(self, msg: str | None) -> None:
        if self.on_wait is not None:
            try:
                self.on_wait(msg)
            except Exception:  # progress reporting must never break a write
                log.exception("on_wait callback failed")

    def _col(self, level: str, key: str):
        name = f"{level}-{key}"
        if name not in self._cols:
            ef = search_ef(key)
            col = self._retry("open collection", lambda: self.client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine", "ef_search": ef, "ef_construction": 400,
                                          "max_neighbors": 32}},
                embedding_function=None,
            ))
            if (col.configuration.get("hnsw") or {}).get("ef_search", ef) != ef:  # made by an earlier version
                self._retry("configure collection", lambda: col.modify(configuration={"hnsw": {"ef_search": ef}}))
            self._cols[name] = col
        return self._cols[name]

    def _existing(self) -> list:
        return self._retry("list collections", lambda: [
            self.client.get_collection(c.name if hasattr(c, "name") else c, embedding_function=None)
            for c in self.client.list_collections()])

    def upsert(self, level: str, key: str, ids: list[str], vectors: np.ndarray, metas: list[dict],
               documents: list[str] | None = None) -> None:
        col = self._col(level, key)
        for i in range(0, len(ids), self._max_batch):
            sl = slice(i, i + self._max_batch)
            self._retry("upsert", lambda sl=sl: col.upsert(
                ids=ids[sl], embeddings=np.asarray(vectors[sl], np.float32), metadatas=metas[sl],
                documents=documents[sl] if documents else None))

    def delete_asset(self, asset_id: str, keep_key: str | None = None) -> None:
        """Remove an asset's vectors everywhere; with keep_key, only its visual vectors made by
        other encoders (what an encoder change leaves behind)."""
        for col in self._existing():
            if keep_key and (col.name.startswith("text-") or col.name.endswith(f"-{keep_key}")):
                continue
            self._retry("delete", lambda col=col: col.delete(where={"asset_id": asset_id}))

    def delete_ids(self, level: str, key: str, ids: list[str]) -> None:
        if ids:
            col = self._col(level, key)
            self._retry("delete", lambda: col.delete(ids=ids))

    def query(self, level: str, key: str, vector: np.ndarray, n: int, where: dict | None = None,
              metadata: bool = True) -> list[Match]:
        """Nearest `n` by cosine similarity; `metadata=False` leaves each Match's meta empty (reading
        the metadata of 50 results is half of a query's cost)."""
        col = self._col(level, key)
        include = ["metadatas", "distances"] if metadata else ["distances"]
        try:  # no count() first: it costs as much as a small query
            res = self._retry("query", lambda: col.query(query_embeddings=np.asarray(vector, np.float32)[None],
                                                         n_results=n, where=where, include=include))
        except StoreUnavailable:
            raise
        except Exception:
            if self._retry("count", col.count) == 0:  # an empty collection refuses queries
                return []
            raise
        metas = res["metadatas"][0] if metadata else [{}] * len(res["ids"][0])
        return [Match(i, 1.0 - float(d), m) for i, d, m in zip(res["ids"][0], res["distances"][0], metas)]

    def vectors_of(self, level: str, key: str, asset_id: str) -> tuple[list[str], np.ndarray, list[dict]]:
        col = self._col(level, key)
        res = self._retry("get", lambda: col.get(where={"asset_id": asset_id}, include=["embeddings", "metadatas"]))
        emb = res["embeddings"]
        vecs = np.asarray(emb, np.float32) if emb is not None and len(emb) else np.zeros((0, 0), np.float32)
        return res["ids"], vecs, res["metadatas"]

    def ids_of(self, level: str, key: str, asset_id: str) -> list[str]:
        col = self._col(level, key)
        return self._retry("get", lambda: col.get(where={"asset_id": asset_id}, include=[]))["ids"]

    def present(self, level: str, key: str, ids: list[str]) -> set[str]:
        """Which of these ids the collection holds (one read for many: the re-ingest check)."""
        if not ids:
            return set()
        col = self._col(level, key)
        found: set[str] = set()
        for i in range(0, len(ids), self._max_batch):
            chunk = ids[i : i + self._max_batch]
            found.update(self._retry("get", lambda chunk=chunk: col.get(ids=chunk, include=[]))["ids"])
        return found

    def count(self, level: str, key: str) -> int:
        return self._retry("count", self._col(level, key).count)

    def collection_names(self) -> list[str]:
        return sorted(c.name for c in self._existing())

    def entries(self, name: str, page: int = 2000) -> Iterator[tuple[str, dict]]:
        """Every (id, metadata) of a collection, a page at a time (for `dam check`)."""
        col = self._retry("open collection", lambda: self.client.get_collection(name, embedding_function=None))
        offset = 0
        while True:
            res = self._retry("get", lambda offset=offset: col.get(limit=page, offset=offset, include=["metadatas"]))
            yield from zip(res["ids"], res["metadatas"])
            if len(res["ids"]) < page:
                return
            offset += page
