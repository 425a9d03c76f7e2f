"""Placing lfo-ray on Ray: an embedded local instance by default, or an existing cluster."""

from __future__ import annotations

import os


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connects to `address` (or RAY_ADDRESS), else starts a local Ray bound to loopback.

    Resources are only given when starting a local instance: Ray refuses them when connecting
    to an existing cluster.
    """
    address = address or os.environ.get("RAY_ADDRESS")
    if not address:
        # Keeps the embedded head and its workers on 127.0.0.1 (Ray 2.60 binds to all
        # interfaces otherwise); Ray reads it when first imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=True)
        return
    from ray._private import ray_constants

    # Read by Ray at import time; set here too in case Ray was imported before us.
    ray_constants.ENABLE_RAY_CLUSTER = False
    ray.init(
        num_cpus=num_cpus or os.cpu_count(),
        include_dashboard=False,
        log_to_driver=True,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
    )
