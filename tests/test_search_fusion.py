"""Fusion's page: the best-ranked assets that pass the filters, in rank order, however far down
the candidates they are."""

from dam.catalog import Catalog
from dam.schema import MediaInfo, VideoStream
from dam.search import Candidate, Filters, fuse


def _catalog(tmp_path, n: int) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.db")
    for i in range(n):
        kind = "image" if i % 7 == 6 else "video"
        info = MediaInfo(kind=kind, container="mov,mp4", duration=10.0 if kind == "video" else None, size=1,
                         video=VideoStream(width=1920, height=1080, fps=25.0))
        catalog.upsert_asset(f"{i:016x}", f"{i:032x}", f"/footage/{i:03d}.mp4", 1, 0.0, info)
    return catalog


def _ranked(n: int) -> list[Candidate]:
    """Asset i ranked i-th, with two frames each (the second one weaker)."""
    return [Candidate(f"{i:016x}", "L1", 0.99 - i / 100 - k / 1000, 1.0 + 3 * k, None, "looks like it")
            for i in range(n) for k in (0, 1)]


def test_the_page_is_the_first_assets_the_filters_pass_in_rank_order(tmp_path):
    catalog = _catalog(tmp_path, 60)
    hits = fuse(catalog, [_ranked(60)], limit=5, filters=Filters(kind="image"))
    assert [h.path for h in hits] == ["/footage/006.mp4", "/footage/013.mp4", "/footage/020.mp4",
                                      "/footage/027.mp4", "/footage/034.mp4"]  # ranks 7 to 35, four reads of ten assets
    assert all(h.moments == 2 for h in hits)


def test_without_filters_the_page_is_the_top_ranks_one_moment_each(tmp_path):
    catalog = _catalog(tmp_path, 60)
    hits = fuse(catalog, [_ranked(60)], limit=3)
    assert [h.path for h in hits] == ["/footage/000.mp4", "/footage/001.mp4", "/footage/002.mp4"]
    assert [h.score for h in hits] == [0.99, 0.98, 0.97]


def test_candidates_of_assets_no_longer_in_the_catalog_are_skipped(tmp_path):
    catalog = _catalog(tmp_path, 4)
    ghosts = [Candidate("f" * 16, "L1", 1.0, 0.0, None, "a deleted asset's vector")]
    hits = fuse(catalog, [ghosts + _ranked(4)], limit=2)
    assert [h.path for h in hits] == ["/footage/000.mp4", "/footage/001.mp4"]


def test_scene_candidates_come_from_their_ids_or_else_their_metadata(tmp_path):
    import numpy as np

    from dam.config import Settings
    from dam.search import vector_candidates
    from dam.store import VectorStore

    store = VectorStore(Settings(data_dir=tmp_path / "data"))
    v = np.eye(4, dtype=np.float32)
    store.upsert("l1", "k", ["a:l1:7"], v[:1], [{"asset_id": "a", "t": 0.28, "scene": 1}])
    store.upsert("l2", "k", ["a:l2:1", "b:l2:3"], v[:2], [{"asset_id": "a", "scene": 1}, {"asset_id": "b", "scene": 3}])
    found = {(c.asset_id, c.level, c.scene, c.at) for c in vector_candidates(store, "k", v[0], 5, "why")}
    assert found == {("a", "L1", 1, 0.28), ("a", "L2", 1, None), ("b", "L2", 3, None)}
    store.upsert("l2", "k", ["imported-scene"], v[2:3], [{"asset_id": "c", "scene": 0}])  # an id of another shape
    found = {(c.asset_id, c.level, c.scene) for c in vector_candidates(store, "k", v[0], 5, "why")}
    assert {("a", "L2", 1), ("b", "L2", 3), ("c", "L2", 0)} <= found
