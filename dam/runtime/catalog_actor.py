"""The catalog behind one writer on the Ray head, for clusters (`DAM_CATALOG=actor`, or `auto`
with `DAM_RAY_ADDRESS` set).

Why: the SQLite file lives on the head's disk. Serve replicas and jobs on other nodes cannot
open it (no shared disk, and SQLite over NFS is not safe), yet search replicas must read it and
ingest must write it. So one detached, named actor on the head owns the file (WAL, as in embedded
mode) and every process talks to it through `RemoteCatalog`, which has the `Catalog` interface:
nothing else in dam knows which mode it runs in.

- Every `Catalog` method runs in the actor, with the same locking as embedded mode.
- `transaction()` is a real SQLite transaction on the head: the actor opens a connection for it,
  `BEGIN IMMEDIATE`, runs the statements as the caller sends them (reads see their own writes,
  `rowcount` works) and commits or rolls back when the `with` block ends. A transaction whose
  caller died is rolled back after `IDLE_TRANSACTION_S`, so it cannot hold the write lock forever.
- The actor restarts if its process dies (`max_restarts=-1`); the data is whatever SQLite had
  committed, which is everything acknowledged to a caller. Calls made while it restarts are
  repeated (they are reads or upserts by key), except the few that insert a new row.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, KeysView, ValuesView
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError

from dam.catalog import Catalog
from dam.runtime.start import HEAD

NAMESPACE = "dam"
IDLE_TRANSACTION_S = 30.0
RESTART_WAIT_S = 60.0  # a call waits this long for a restarting catalog actor
# Calls that would add a second row if repeated after "may or may not have run"; every other
# Catalog method is a read, an upsert or an update by key, so repeating it is harmless.
NOT_REPEATABLE = frozenset({"start_job", "record_error", "record_scan"})


def actor_name(path: Path) -> str:
    """One actor per catalog file (tests and studios may run several data dirs on one cluster)."""
    return "dam-catalog-" + hashlib.sha1(str(path).encode()).hexdigest()[:12]


class Row:
    """A picklable stand-in for sqlite3.Row: `r["col"]`, `r[0]`, `dict(r)`, `r.keys()`."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: tuple[str, ...], values: tuple):
        self._keys, self._values = keys, values

    @classmethod
    def of(cls, row: sqlite3.Row) -> "Row":
        return cls(tuple(row.keys()), tuple(row))

    def keys(self) -> list[str]:
        return list(self._keys)

    def __getitem__(self, k: int | str) -> Any:
        return self._values[k if isinstance(k, int) else self._keys.index(k)]

    def __iter__(self) -> Iterator:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Row) and (self._keys, self._values) == (other._keys, other._values)

    def __getstate__(self) -> tuple:
        return self._keys, self._values

    def __setstate__(self, state: tuple) -> None:
        self._keys, self._values = state

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._keys, self._values))!r})"


def _plain(value: Any) -> Any:
    """sqlite3.Row cannot cross a process boundary; everything else dam returns can."""
    if isinstance(value, sqlite3.Row):
        return Row.of(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _sendable(value: Any) -> Any:
    """Arguments that do not pickle (generators, dict views) become lists."""
    if isinstance(value, (Iterator, KeysView, ValuesView)):
        return list(value)
    return value


class _Tx:
    def __init__(self, path: str):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        self.used = time.monotonic()
        self.db.execute("BEGIN IMMEDIATE")


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=32)
class CatalogActor:
    """Owns the SQLite catalog on the head's disk; the only process that opens it."""

    def __init__(self, path: str):
        self.path = path
        self.catalog = Catalog(Path(path))
        self._txs: dict[str, _Tx] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._reap, daemon=True, name="catalog-reaper").start()

    def call(self, method: str, args: tuple, kwargs: dict) -> Any:
        if method.startswith("__") or method in ("close", "transaction") or not callable(getattr(Catalog, method, None)):
            raise AttributeError(f"Catalog has no remote method {method!r}")
        return _plain(getattr(self.catalog, method)(*args, **kwargs))

    def where(self) -> dict:
        """Where the catalog lives: the node id and the file (for `dam` status and tests)."""
        return {"node_id": ray.get_runtime_context().get_node_id(), "path": self.path}

    # --- transactions: begin, execute..., end ---------------------------------------------------

    def begin(self) -> str:
        tx_id = uuid.uuid4().hex
        tx = _Tx(self.path)  # waits (busy timeout) for another writer to finish
        with self._lock:
            self._txs[tx_id] = tx
        return tx_id

    def execute(self, tx_id: str, sql: str, args: Any = (), many: bool = False) -> tuple[list[Row], int, int | None]:
        tx = self._tx(tx_id)
        with tx.lock:
            cur = tx.db.executemany(sql, args) if many else tx.db.execute(sql, args)
            rows = [Row.of(r) for r in cur.fetchall()] if cur.description else []
            tx.used = time.monotonic()
            return rows, cur.rowcount, cur.lastrowid

    def end(self, tx_id: str, commit: bool) -> None:
        with self._lock:
            tx = self._txs.pop(tx_id, None)
        if tx is None:
            raise RuntimeError("the catalog transaction was rolled back (idle too long, or the catalog restarted)")
        with tx.lock:
            try:
                tx.db.execute("COMMIT" if commit else "ROLLBACK")
            finally:
                tx.db.close()

    def _tx(self, tx_id: str) -> _Tx:
        with self._lock:
            tx = self._txs.get(tx_id)
        if tx is None:
            raise RuntimeError("the catalog transaction was rolled back (idle too long, or the catalog restarted)")
        return tx

    def _reap(self) -> None:
        while True:
            time.sleep(IDLE_TRANSACTION_S / 3)
            now = time.monotonic()
            with self._lock:
                stale = [k for k, tx in self._txs.items() if now - tx.used > IDLE_TRANSACTION_S]
                gone = [self._txs.pop(k) for k in stale]
            for tx in gone:
                with tx.lock:
                    tx.db.execute("ROLLBACK")
                    tx.db.close()


def catalog_actor(path: Path):
    """The catalog actor for `path`, started on the head node if it is not running yet."""
    return CatalogActor.options(name=actor_name(path), namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
                                resources={HEAD: 0.001}).remote(str(path))


class _Cursor:
    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None):
        self._rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid
        self.description = bool(rows)

    def fetchall(self) -> list[Row]:
        return self._rows

    def fetchone(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class _Connection:
    """What `with catalog.transaction() as db:` yields: `db.execute`, `db.executemany`."""

    def __init__(self, actor, tx_id: str):
        self._actor, self._tx = actor, tx_id

    def execute(self, sql: str, args: Any = ()) -> _Cursor:
        return _Cursor(*ray.get(self._actor.execute.remote(self._tx, sql, _sendable(args))))

    def executemany(self, sql: str, seq: Any) -> _Cursor:
        return _Cursor(*ray.get(self._actor.execute.remote(self._tx, sql, [tuple(a) for a in seq], True)))


class RemoteCatalog:
    """`Catalog`'s interface, served by the catalog actor on the head."""

    mode = "actor"

    def __init__(self, path: Path):
        self.path = path
        self._actor = catalog_actor(path)

    def __getattr__(self, name: str):
        if name.startswith("__") or not callable(getattr(Catalog, name, None)):
            raise AttributeError(name)

        def remote(*args: Any, **kwargs: Any) -> Any:
            args = tuple(_sendable(a) for a in args)
            kwargs = {k: _sendable(v) for k, v in kwargs.items()}
            deadline = time.monotonic() + RESTART_WAIT_S
            while True:
                try:
                    return ray.get(self._actor.call.remote(name, args, kwargs))
                except ActorUnavailableError:  # restarting: Ray cannot say whether the call ran
                    if name in NOT_REPEATABLE or time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

        remote.__name__ = name
        return remote

    def where(self) -> dict:
        return ray.get(self._actor.where.remote())

    @contextmanager
    def transaction(self) -> Iterator[_Connection]:
        tx_id = ray.get(self._actor.begin.remote())
        try:
            yield _Connection(self._actor, tx_id)
        except BaseException:
            ray.get(self._actor.end.remote(tx_id, False))
            raise
        ray.get(self._actor.end.remote(tx_id, True))

    def close(self) -> None:
        """The actor stays: it belongs to the cluster, not to this process."""
