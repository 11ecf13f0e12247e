"""Does the library agree with itself? Catalog vs vector store vs files on disk.

Why: a backfill may be killed anywhere (node, worker, driver) and resubmitted; the promise is
that it ends with every asset indexed exactly once. This is the check that proves it, for the
tests and for an operator (`dam check`): it only reads, never repairs.

What "consistent" means, per indexed asset (the catalog is the source of truth):
- its L0 vector `{id}:l0:0` and its text document `{id}:text:0` exist, and in the text space
  exactly one `{id}:speech:{i}` per transcript segment it has (none without a transcript);
- a video has exactly `levels["L1"]` frame vectors and at most `levels["L2"]` scene vectors
  (scenes too short to sample keep no vector), all with ids `{id}:{level}:{n}`; an image has
  its one L1 vector;
- the files the catalog lists for it are there, with the size and mtime it recorded, and the
  path the asset names (the copy everything opens) exists.
And across the store: no vector whose asset is not in the catalog (an orphan), no vector filed
under another asset's id, no two assets for one content hash."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from dam.objectstore.store import linked
from dam.store import vector_id

ProblemKind = Literal["missing_vector", "wrong_vector_count", "orphan_vector", "misfiled_vector",
                      "duplicate_asset", "file_missing", "file_changed", "source_without_asset",
                      "asset_path_missing"]


class Problem(BaseModel):
    kind: ProblemKind
    asset_id: str | None = None
    collection: str | None = None
    detail: str


class ConsistencyReport(BaseModel):
    assets: int = 0
    indexed: int = 0
    pending: list[str] = Field(default_factory=list, description="Assets registered but not indexed yet (status new).")
    failed: list[str] = Field(default_factory=list, description="Assets whose indexing failed (status error).")
    files: int = 0
    vectors: dict[str, int] = Field(default_factory=dict, description="Vectors per collection.")
    problems: list[Problem] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Store(Protocol):
    def collection_names(self) -> list[str]: ...
    def entries(self, name: str): ...


def check(catalog, store: _Store, key: str, text_key: str, files: bool = True) -> ConsistencyReport:
    """Compare everything; `key`/`text_key` name the current visual and text vector spaces."""
    rep = ConsistencyReport()
    assets = [dict(r) for r in catalog.rows("SELECT id, content_hash, kind, status, levels, encoder, path FROM assets")]
    by_id = {a["id"]: a for a in assets}
    rep.assets = len(assets)
    for h, n in Counter(a["content_hash"] for a in assets).items():
        if n > 1:
            rep.problems.append(Problem(kind="duplicate_asset", detail=f"{n} assets for content hash {h}"))
    for a in assets:
        if not a["content_hash"].startswith(a["id"]):
            rep.problems.append(Problem(kind="duplicate_asset", asset_id=a["id"],
                                        detail=f"asset id is not derived from its content hash {a['content_hash']}"))

    # Every vector, grouped by (collection, asset): ids must name the asset their metadata names.
    held: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in store.collection_names():
        count = 0
        for vid, meta in store.entries(name):
            count += 1
            aid = (meta or {}).get("asset_id")
            if aid not in by_id:
                rep.problems.append(Problem(kind="orphan_vector", asset_id=aid, collection=name,
                                            detail=f"vector {vid} belongs to no catalog asset"))
                continue
            if not vid.startswith(f"{aid}:"):
                rep.problems.append(Problem(kind="misfiled_vector", asset_id=aid, collection=name,
                                            detail=f"vector {vid} is filed under asset {aid}"))
            held[(name, aid)].append(vid)
        rep.vectors[name] = count

    for a in assets:
        levels = json.loads(a["levels"] or "{}")
        if a["status"] == "new":
            rep.pending.append(a["id"])
        elif a["status"] == "error":
            rep.failed.append(a["id"])
        if a["status"] != "indexed" or a["encoder"] != key:
            continue  # pending, failed, missing media, or indexed with another encoder (a re-index is due)
        rep.indexed += 1
        rep.problems += _asset_vectors(a, levels, held, key, text_key)

    if files:
        rows = catalog.rows("SELECT path, asset_id, size, mtime FROM files WHERE asset_id IS NOT NULL")
        rep.files = len(rows)
        for r in rows:
            if by_id.get(r["asset_id"], {}).get("status") == "missing":
                continue  # the catalog already knows (a scan marked it)
            rep.problems += _file_problem(r)
        for a in assets:  # the copy an asset names is the one enrich, exports and /media open
            if a["status"] != "missing" and not os.path.exists(a["path"]):
                rep.problems.append(Problem(kind="asset_path_missing", asset_id=a["id"],
                                            detail=f"the asset names {a['path']}, which is gone (`dam scan` "
                                                   f"points it at a copy that exists)"))
    for r in linked(catalog):
        if r["asset_id"] not in by_id:
            rep.problems.append(Problem(kind="source_without_asset", asset_id=r["asset_id"],
                                        detail=f"{r['uri']} is recorded as an asset the catalog does not have"))
    return rep


def _asset_vectors(a: dict, levels: dict, held: dict, key: str, text_key: str) -> list[Problem]:
    aid, out = a["id"], []

    def expect(level: str, space: str, want: set[str] | None = None, count: int | None = None,
               at_most: int | None = None, kinds: tuple[str, ...] | None = None) -> None:
        name = f"{level}-{space}"
        got = held.get((name, aid), [])
        if want is not None and set(got) != want:
            missing, extra = sorted(want - set(got)), sorted(set(got) - want)
            kind = "missing_vector" if missing else "wrong_vector_count"
            out.append(Problem(kind=kind, asset_id=aid, collection=name,
                               detail=f"missing {missing[:5]} extra {extra[:5]}"))
        if count is not None and len(got) != count:
            out.append(Problem(kind="missing_vector" if len(got) < count else "wrong_vector_count", asset_id=aid,
                               collection=name, detail=f"{len(got)} vectors, the catalog says {count}"))
        if at_most is not None and not 0 < len(got) <= at_most:
            out.append(Problem(kind="missing_vector" if not got else "wrong_vector_count", asset_id=aid,
                               collection=name, detail=f"{len(got)} vectors for {at_most} scenes"))
        prefixes = tuple(f"{aid}:{k}:" for k in kinds or (level,))
        bad = [v for v in got if not v.startswith(prefixes)]
        if bad:
            out.append(Problem(kind="misfiled_vector", asset_id=aid, collection=name, detail=f"unexpected ids {bad[:5]}"))

    # The text space holds the asset's document and, after `dam transcribe`, one vector per
    # transcript segment (`{id}:speech:{i}`; the catalog counts them in levels["speech"]).
    speech = {vector_id(aid, "speech", i) for i in range(int(levels.get("speech", 0)))}
    expect("text", text_key, want={vector_id(aid, "text")} | speech, kinds=("text", "speech"))
    if a["kind"] in ("video", "image"):
        expect("l0", key, want={vector_id(aid, "l0")})
    if a["kind"] == "image":
        expect("l1", key, want={vector_id(aid, "l1")})
    elif a["kind"] == "video":
        expect("l1", key, count=int(levels.get("L1", 0)))
        if levels.get("L1"):
            expect("l2", key, at_most=int(levels.get("L2", 0)))
    return out


def _file_problem(r) -> list[Problem]:
    try:
        st = os.stat(r["path"])
    except OSError:
        return [Problem(kind="file_missing", asset_id=r["asset_id"], detail=f"{r['path']} is gone")]
    if st.st_size != r["size"] or st.st_mtime != r["mtime"]:
        return [Problem(kind="file_changed", asset_id=r["asset_id"],
                        detail=f"{r['path']} changed since it was indexed (size {r['size']} -> {st.st_size})")]
    return []


def check_library(lib, files: bool = True) -> ConsistencyReport:
    return check(lib.catalog, lib.store, lib.key, lib.text_encoder_key, files=files)


def summary(rep: ConsistencyReport) -> str:
    kinds = Counter(p.kind for p in rep.problems)
    head = (f"{rep.assets} assets ({rep.indexed} indexed, {len(rep.pending)} pending, {len(rep.failed)} failed), "
            f"{rep.files} files, {sum(rep.vectors.values())} vectors")
    return head + (": consistent" if rep.ok else ": " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))


