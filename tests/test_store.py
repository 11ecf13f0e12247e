"""The vector store's calls: a briefly busy embedded database does not fail a write."""

import pytest
from chromadb.errors import InternalError

from dam.config import Settings
from dam.store import VectorStore


def test_a_busy_database_is_tried_again_and_other_errors_are_not(tmp_path):
    store = VectorStore(Settings(data_dir=tmp_path / "data"))
    calls = []

    def busy_twice():
        calls.append(1)
        if len(calls) < 3:  # what SQLite says when it refuses a write to avoid a deadlock
            raise InternalError("Database error: error returned from database: (code: 5) database is locked")
        return store.client.get_or_create_collection("l1-x", embedding_function=None).count()

    assert store._retry("count", busy_twice) == 0 and len(calls) == 3

    def broken():
        calls.append(1)
        raise InternalError("Database error: no such table: collections")

    calls.clear()
    with pytest.raises(InternalError, match="no such table"):
        store._retry("count", broken)
    assert len(calls) == 1
