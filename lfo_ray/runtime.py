"""Placing lfo-ray on Ray: an embedded local instance by default, or an existing cluster."""

from __future__ import annotations

import logging
import os
import socket

PROBE_TIMEOUT_S = 10.0
"""How long the cluster at an address has to accept a connection before we give up on it."""
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a GCS or Ray Client address; None for addresses Ray resolves itself."""
    text = address.split("://", 1)[1] if "://" in address else address
    if text in ("auto", "local"):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--address {address}: expected HOST:PORT (e.g. 127.0.0.1:6379)")
    return host.strip("[]"), int(port)


def check_address(address: str | None) -> None:
    """Fails within PROBE_TIMEOUT_S, naming the address, when nothing answers at it.

    Ray itself retries an address that does not answer for a minute and more; a socket connect
    to the GCS port tells at once.
    """
    address = address or os.environ.get("RAY_ADDRESS")
    if not address:
        return
    where = _host_port(address)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, socket.timeout) else (error.strerror or str(error))
        raise ValueError(f"--address {address}: no Ray cluster answers there ({reason}); start one "
                         "with `ray start --head` or drop --address for a local Ray") from None


def ensure_ray(address: str | None = None, num_cpus: int | None = None, quiet: bool = False) -> None:
    """Connects to `address` (or RAY_ADDRESS), else starts a local Ray bound to loopback.

    An address is used as given: Ray would rewrite a loopback host to this machine's network
    address, which a cluster bound to loopback does not answer on. Resources are only given when
    starting a local instance: Ray refuses them when connecting to an existing cluster. quiet:
    the actors' output does not reach this terminal.
    """
    address = address or os.environ.get("RAY_ADDRESS")
    where = _host_port(address) if address else None
    loopback = not address or (where is not None and where[0] in LOOPBACK)
    if quiet:
        # Ray logs that token authentication is on at every local start; quiet keeps it (and the
        # protection) but not the notice.
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    if loopback:
        # Keeps Ray on 127.0.0.1 (Ray 2.60 binds to all interfaces and rewrites loopback
        # addresses otherwise); Ray reads it when first imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if address:
        check_address(address)   # also when this process is already connected: a bad address is bad input
    import ray

    if ray.is_initialized():
        return
    if loopback:
        from ray._private import ray_constants

        # Read by Ray at import time; set here too in case Ray was imported before us.
        ray_constants.ENABLE_RAY_CLUSTER = False
    if address:
        ray.init(address=address, log_to_driver=not quiet)
        return
    ray.init(
        num_cpus=num_cpus or os.cpu_count(),
        include_dashboard=False,
        log_to_driver=not quiet,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
    )
