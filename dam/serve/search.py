"""Search replicas: the read path, spread over nodes.

With a Chroma server (`DAM_CHROMA_URL`) any process can read vectors, and with the catalog actor
(`DAM_CATALOG=actor`) any node can read the catalog, so search need not queue behind the one
`LibraryService` replica that owns ingest. `Searcher` runs `DAM_SEARCH_REPLICAS` replicas, at most
one per node, so losing a node (or a replica) leaves the others answering; the ingress retries a
search whose replica died on another one."""

from __future__ import annotations

import ray
from ray import serve

from dam.config import Settings
from dam.library import Library
from dam.search import Filters, QueryVectors
from dam.usecases import index


def run_search(library, text, image_vec, visual_text, sentence, limit: int, filters: dict) -> list[dict]:
    """The one search both LibraryService and Searcher answer with."""
    q = QueryVectors(text=text, image=image_vec, visual_text=visual_text, sentence=sentence)
    return [h.model_dump(mode="json") for h in index.search(library, limit=limit, filters=Filters(**filters), query=q).hits]


def served_by() -> str:
    """`<deployment>#<replica>@<node id prefix>`: which replica answered (the X-Served-By header)."""
    ctx = serve.get_replica_context()
    return f"{ctx.deployment}#{ctx.replica_id.unique_id}@{ray.get_runtime_context().get_node_id()[:12]}"


@serve.deployment(num_replicas=1, max_replicas_per_node=1, max_ongoing_requests=32, ray_actor_options={"num_cpus": 0})
class Searcher:
    def __init__(self, settings: dict):
        self.library = Library(Settings(**settings))
        self.name = served_by()

    def search(self, text, image_vec, visual_text, sentence, limit: int, filters: dict) -> dict:
        return {"hits": run_search(self.library, text, image_vec, visual_text, sentence, limit, filters),
                "served_by": self.name}
