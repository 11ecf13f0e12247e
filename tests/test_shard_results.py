"""The writer's side of retries: a shard result delivered twice (a retried task, a restarted
actor) is taken once, so an asset's frames can never be doubled."""

import numpy as np

from dam.segment import AssetFrames


def shard(k: int, frames: list[int]) -> dict:
    n = len(frames)
    return {"shard": k, "error": "", "end": (k + 1) * 50, "index": np.asarray(frames), "times": np.asarray(frames) / 25,
            "vectors": np.ones((n, 4), np.float32), "quality": np.ones(n, np.float32), "cuts": np.zeros((0, 4))}


def test_a_repeated_shard_result_is_ignored_and_completion_counts_each_shard_once():
    acc = AssetFrames(fps=25.0, shards=2)
    assert acc.add(shard(0, [0, 25]))
    assert not acc.add(shard(0, [0, 25]))  # the same shard again
    assert not acc.complete
    assert acc.add(shard(1, [50, 75]))
    assert acc.complete
    index = acc.merged()[0]
    assert index.tolist() == [0, 25, 50, 75]
