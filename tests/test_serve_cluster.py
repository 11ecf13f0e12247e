"""Serve on a real two-node local Ray cluster with a real Chroma server: search replicas on both
nodes answer over HTTP, and killing one under load costs few (clean) errors and heals itself."""

from __future__ import annotations

import shutil

import pytest
from cluster_script import run_cluster_script


@pytest.fixture(scope="module")
def seen(media, tmp_path_factory) -> dict:
    """Runs tests/serve_cluster_check.py in its own process (this session already has a Ray)."""
    work = tmp_path_factory.mktemp("serve-cluster")
    footage = work / "footage"
    footage.mkdir()
    for name in ("shots", "other"):
        shutil.copy(media[name], footage / f"{name}.mp4")
    return run_cluster_script("serve_cluster_check.py", footage, work, timeout=480)


def node_of(served_by: str) -> str:
    return served_by.rsplit("@", 1)[1]


def test_the_catalog_lives_in_one_actor_on_the_head(seen):
    assert len(seen["nodes"]) == 2
    assert seen["catalog_node"] == seen["head"]
    assert seen["ingest"]["status"] == "done" and seen["ingest"]["errors"] == []


def test_two_search_replicas_on_different_nodes_both_answer_over_http(seen):
    assert seen["replicas_before"] == {"RUNNING": 2} and len(seen["replica_actors"]) == 2
    answers = seen["first"]
    assert all(a["status"] == 200 and a["top"].endswith("shots.mp4") for a in answers)
    replicas = {a["by"] for a in answers}
    assert len(replicas) == 2, replicas  # both replicas answered
    assert {node_of(b) for b in replicas} == {n[:12] for n in seen["nodes"]}  # one on each node


def test_killing_a_search_replica_under_load_costs_few_clean_errors_and_heals(seen):
    load = seen["load"]
    assert len(load) >= 40  # the clients really were searching throughout
    errors = [r for r in load if r["status"] != 200]
    assert len(errors) <= max(3, len(load) // 50), errors
    # Any error is a JSON 503 saying to retry, or a dropped connection: never a 500.
    assert all(r["status"] == 503 and r["error"] == "search_unavailable" or r["status"] is None for r in errors)
    assert not any(r.get("not_json") for r in load)
    assert seen["recovered_after"] is not None and seen["recovered_after"] < 60
    assert seen["replicas_after"] == {"RUNNING": 2}
    assert seen["victim"] not in seen["replica_actors_after"]
    new = {a.rsplit("#", 1)[1] for a in seen["replica_actors_after"]} - {a.rsplit("#", 1)[1] for a in seen["replica_actors"]}
    assert len(new) == 1
    after = seen["after"]
    assert all(a["status"] == 200 for a in after)
    assert any(a["by"].split("#")[1].split("@")[0] in new for a in load + after if a.get("by"))  # the new one serves
