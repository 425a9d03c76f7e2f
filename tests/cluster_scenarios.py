"""Multi-node scenarios on a simulated cluster (ray.cluster_utils.Cluster), one per process.

    python -m tests.cluster_scenarios NAME OUT_DIR     # prints one JSON line of findings

A Cluster brings its own Ray (a head and worker nodes, each a raylet on this machine), which
cannot live beside the test session's Ray in one process: tests/test_multinode.py runs each
scenario in a subprocess and asserts on what it prints.

Layout: a head with 1 CPU (the driver's node: learners and replays, which prefer it, leave too
little of it for a rollout actor) and two worker nodes with 1 CPU each, where the rollout actors
(0.5 CPU, SPREAD) land.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from lfo_ray.placement import Placement, resolve  # noqa: E402

NODE = {"num_cpus": 1, "include_dashboard": False}


def start_cluster() -> tuple[Cluster, list]:
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False  # lfo_ray.runtime's loopback setting, as in ensure_ray
    cluster = Cluster(initialize_head=True, connect=True,
                      head_node_args=dict(NODE, _system_config={"health_check_period_ms": 500,
                                                                "health_check_failure_threshold": 4}))
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    return cluster, workers


def node_ids(group) -> list[str]:
    return resolve([w.call("node_id") for w in group.workers])


def sampler_survives_node_loss(out: Path) -> dict:
    """Async sampling from two spread rollout actors into a replay on the head; the node of one
    actor is removed mid-run."""
    from lfo_ray.replay import ReplayBuffer
    from lfo_ray.runner import RolloutGroup
    from lfo_ray.sampling import AsyncSampler
    from tests.test_sampling import GRID, VersionPolicy

    cluster, workers = start_cluster()
    head = ray.get_runtime_context().get_node_id()
    placement = Placement("ray")
    # 0.6 CPU: what is left of the head is too little for a rollout actor, as in an algorithm's run.
    replay = placement.place(ReplayBuffer, 100_000, num_cpus=0.6)
    group = RolloutGroup(placement, GRID, {}, 2, envs_per_worker=4, seed=0, policy_factory=VersionPolicy)
    before = node_ids(group)
    replay_node = ray.get(replay.actor.__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id()))
    budget = 40_003
    sampler = AsyncSampler(group, replay, budget, max_lag=1, chunk_steps=500)
    sampler.start({"version": 1})
    sampler.wait_for(8_000)
    victim = next(node for node in workers if node.node_id == before[0])
    cluster.remove_node(victim, allow_graceful=False)
    version = 1
    while not sampler.done:
        version = sampler.publish({"version": version + 1})
        time.sleep(0.05)
        sampler.poll()
    stats = sampler.stop()
    after = node_ids(group)
    result = {"head": head, "before": before, "after": after, "removed": victim.node_id,
              "replay_node": replay_node, "env_steps": stats.env_steps, "budget": budget,
              "replay_size": resolve(replay.call("__len__")), "max_lag": stats.max_lag,
              "alive": [n["NodeID"] for n in ray.nodes() if n["Alive"]]}
    ray.shutdown()
    cluster.shutdown()
    return result


def bco_survives_node_loss(out: Path) -> dict:
    """A BCO run (async sampling, 2 spread rollout workers) whose first worker's node is removed
    after a quarter of its budget."""
    from lfo_ray.algorithms.bco import algorithm as bco
    from lfo_ray.experiment import train_run
    from tests.conftest import DEMOS

    cluster, workers = start_cluster()
    groups, seen = [], {}

    class WatchedGroup(bco.RolloutGroup):
        """BCO's rollout group, recorded so this script can see where its actors run."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            seen["before"] = node_ids(self)
            groups.append(self)

        def close(self) -> None:
            seen["after"] = node_ids(self)
            super().close()

    bco.RolloutGroup = WatchedGroup
    budget = 2_000

    def remove_a_rollout_node() -> None:
        while not groups or groups[0].env_steps < budget // 4:
            time.sleep(0.02)
        victim = next(node for node in workers if node.node_id == seen["before"][0])
        cluster.remove_node(victim, allow_graceful=False)
        seen["removed"] = victim.node_id
        seen["removed_at"] = groups[0].env_steps

    killer = threading.Thread(target=remove_a_rollout_node, daemon=True)
    killer.start()
    overrides = {"budget": budget, "alpha": 1.0, "iterations": 4, "num_workers": 2, "sampling": "async",
                 "inverse_updates": 200, "policy_updates": 200, "batch_size": 64, "eval_episodes": 0,
                 "inverse_hidden": (32,), "policy_hidden": (32,)}
    result = train_run("bco", "CartPole-v1", DEMOS / "CartPole-v1.parquet", 0, out / "bco",
                       overrides=overrides, placement="ray", progress=False)
    killer.join(timeout=5)
    from lfo_ray.checkpoint import safe_torch_load

    state = safe_torch_load(out / "bco" / "checkpoint" / "state.pt")
    findings = {**seen, "env_steps": result["env_steps"], "budget": budget, "replay_added": state["replay"]["added"],
                "max_policy_lag": result["metrics"]["max_policy_lag"], "head": ray.get_runtime_context().get_node_id()}
    ray.shutdown()
    cluster.shutdown()
    return findings


SCENARIOS = {f.__name__: f for f in (sampler_survives_node_loss, bco_survives_node_loss)}

if __name__ == "__main__":
    name, out_dir = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(SCENARIOS[name](out_dir)))
