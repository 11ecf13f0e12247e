"""Ray worker setup hook for an embedded Ray: gRPC servers that Ray code binds to every interface
listen on 127.0.0.1 instead.

Ray Serve 2.60 starts each replica's inter-deployment gRPC server on `[::]:0` with no setting
for it (ray/serve/_private/replica.py); the handles reach it at the node address, which an
embedded Ray makes 127.0.0.1 (dam.runtime.ensure_ray). Kept import-light: it runs at
the start of every Ray worker."""

from __future__ import annotations

ANY = ("[::]", "0.0.0.0", "")


def grpc_on_loopback() -> None:
    """Installed as `worker_process_setup_hook`; runs before the worker imports Serve."""
    from ray._common import tls_utils

    bind = tls_utils.add_port_to_grpc_server
    if getattr(bind, "dam_loopback", False):
        return

    def on_loopback(server, address: str) -> int:
        host, _, port = address.rpartition(":")
        return bind(server, f"127.0.0.1:{port}" if host in ANY else address)

    on_loopback.dam_loopback = True  # type: ignore[attr-defined]
    tls_utils.add_port_to_grpc_server = on_loopback
