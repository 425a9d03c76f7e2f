"""Multi-node runs on a simulated cluster: rollout actors spread over nodes, a node lost mid-run.

Each scenario (tests/cluster_scenarios.py) starts its own Cluster in a subprocess, so the test
session's Ray (the `ray_session` fixture) is neither needed nor disturbed.
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_scenario(name: str, out_dir) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.cluster_scenarios", name, str(out_dir)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_spread_then_restarted(found: dict) -> None:
    before, after = found["before"], found["after"]
    # Two actors on two worker nodes, as each reported from inside itself; none on the head.
    assert len(set(before)) == 2 and found["head"] not in before
    # The removed node's actor was restarted on a node still alive.
    assert found["removed"] == before[0] and found["removed"] not in after
    assert set(after) <= set(found.get("alive", after)) and found["head"] not in after


@pytest.mark.ray
def test_async_sampling_survives_losing_a_rollout_node(tmp_path):
    found = run_scenario("sampler_survives_node_loss", tmp_path)
    assert_spread_then_restarted(found)
    assert found["replay_node"] == found["head"]
    assert found["env_steps"] == found["budget"] == found["replay_size"]
    assert found["max_lag"] <= 1


@pytest.mark.ray
@pytest.mark.slow
def test_bco_run_survives_losing_a_rollout_node(tmp_path):
    found = run_scenario("bco_survives_node_loss", tmp_path)
    assert_spread_then_restarted(found)
    assert 0 < found["removed_at"] < found["budget"]
    assert found["env_steps"] == found["budget"] == found["replay_added"]
    assert found["max_policy_lag"] <= 1
