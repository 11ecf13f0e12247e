"""Ray Serve's settings that are not Serve's defaults: direct ingress for `dam serve`, and
whether a Serve (a cluster's) runs already."""

from __future__ import annotations

import ray

DIRECT_INGRESS = "RAY_SERVE_ENABLE_DIRECT_INGRESS"


def direct_ingress_env(port: int) -> dict[str, str]:
    """The Serve controller's settings for an ingress replica that listens on `port` itself.
    Serve hands each ingress replica a port from a range; a range of one port makes it ours. No
    load balancer drains the replica, so it stops without Serve's 30 s drain."""
    return {DIRECT_INGRESS: "1", "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(port),
            "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(port + 1),
            "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0.5"}


def serve_running() -> bool:
    return any(a["name"] == "SERVE_CONTROLLER_ACTOR" and a["namespace"] == "serve"
               for a in ray.util.list_named_actors(all_namespaces=True))
