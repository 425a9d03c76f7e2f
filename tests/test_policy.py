"""lfo_ray.policy: one Policy type, one on-disk format, a closed architecture registry."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

import lfo_ray
from lfo_ray.algorithms.bc.networks import CategoricalPolicyNet, mlp_policy
from lfo_ray.algorithms.bco.networks import policy_spec as bco_spec
from lfo_ray.algorithms.tabular import deployed_probs, table_policy
from lfo_ray.policy import SPEC_FILE, WEIGHTS_FILE, Policy, PolicySpec, read_policy

BOX = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
IMAGE = gym.spaces.Box(0, 255, (16, 16, 3), np.uint8)
GRID = gym.spaces.Discrete(6)
ACTIONS = gym.spaces.Discrete(3)


def random_weights(policy: Policy, seed: int = 0) -> Policy:
    """The policy with every parameter drawn at random, so that actions differ between states."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in policy.net.parameters():
            tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype))
    return policy


def built(spec: PolicySpec, seed: int = 0) -> Policy:
    return random_weights(Policy(spec.build(), spec, seed=seed))


def observations(space: gym.Space, count: int) -> np.ndarray:
    space.seed(0)
    return np.stack([space.sample() for _ in range(count)])


POLICIES = {
    "mlp-box": lambda: built(PolicySpec("mlp", BOX, ACTIONS, {"hidden": [8]})),
    "mlp-discrete": lambda: built(PolicySpec("mlp", GRID, ACTIONS, {"hidden": []})),
    "mlp-image": lambda: built(PolicySpec("mlp", IMAGE, ACTIONS, {"hidden": [8]})),
    "table": lambda: table_policy(np.random.default_rng(0).dirichlet(np.ones(3), size=6)),
    "bco-box": lambda: built(bco_spec(BOX, ACTIONS, [8], [4])),
    "bco-discrete": lambda: built(bco_spec(GRID, ACTIONS, [8], [4])),
    "bco-image": lambda: built(bco_spec(IMAGE, ACTIONS, [8], [4, 4])),
    "ilpo-box": lambda: built(PolicySpec("ilpo", BOX, ACTIONS, {"n_latent": 2, "hidden": 8, "conv_channels": 4})),
    "ilpo-image": lambda: built(PolicySpec("ilpo", IMAGE, ACTIONS, {"n_latent": 2, "hidden": 8, "conv_channels": 2})),
    "actor_critic-box": lambda: built(PolicySpec("actor_critic", BOX, ACTIONS, {"hidden": [8, 8]})),
    "actor_critic-discrete": lambda: built(PolicySpec("actor_critic", GRID, ACTIONS, {"hidden": []})),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_acts_on_one_observation_or_a_batch_and_round_trips(tmp_path, name):
    policy = POLICIES[name]()
    batch = observations(policy.observation_space, 32)
    actions = policy.act(batch)
    assert actions.shape == (32,) and actions.dtype.kind == "i"
    assert ((0 <= actions) & (actions < 3)).all()
    single = policy.act(batch[0])
    assert np.ndim(single) == 0 and single == actions[0]
    predicted, state = policy.predict(batch)
    assert state is None and np.array_equal(predicted, actions)
    assert np.ndim(policy.predict(batch[0])[0]) == 0
    probs = policy.probs(batch)
    assert probs.shape == (32, 3) and np.allclose(probs.sum(axis=1), 1.0)

    loaded = read_policy(policy.save(tmp_path))
    assert loaded.spec == policy.spec
    assert np.array_equal(loaded.act(batch), actions)
    np.testing.assert_allclose(loaded.probs(batch), probs)
    assert json.loads((tmp_path / SPEC_FILE).read_text())["format_version"] == 1


def test_discrete_observations_are_single_when_scalar():
    policy = POLICIES["table"]()
    assert np.ndim(policy.act(4)) == 0
    assert policy.act(np.array([0, 1, 2])).shape == (3,)
    assert policy.probs(4).shape == (3,)


def test_greedy_takes_the_argmax_and_sampling_follows_the_probabilities():
    probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    greedy = table_policy(probs, greedy=True)
    assert greedy.act(np.array([0, 1])).tolist() == [1, 0]  # ties: the lowest action
    np.testing.assert_array_equal(deployed_probs(greedy), [[0, 1, 0], [1, 0, 0]])
    sampler = table_policy(probs, greedy=False, seed=3)
    draws = sampler.act(np.ones(4000, dtype=np.int64))
    assert set(draws.tolist()) == {0, 2} and abs((draws == 2).mean() - 0.5) < 0.05
    np.testing.assert_allclose(deployed_probs(sampler), probs)
    # predict(deterministic=False) samples even from a greedy policy, as stable-baselines3 does.
    assert set(greedy.predict(np.ones(400, dtype=np.int64), deterministic=False)[0].tolist()) == {0, 2}
    same_seed = table_policy(probs, greedy=False, seed=3).act(np.ones(4000, dtype=np.int64))
    assert np.array_equal(draws, same_seed)


def test_network_policies_act_like_their_network():
    net = CategoricalPolicyNet(BOX, 3, (8,))
    policy = mlp_policy(net, greedy=True)
    obs = observations(BOX, 16)
    assert np.array_equal(policy.act(obs), net(torch.as_tensor(obs)).argmax(-1).numpy())


def test_unknown_architecture_is_refused(tmp_path):
    POLICIES["mlp-box"]().save(tmp_path)
    spec = json.loads((tmp_path / SPEC_FILE).read_text())
    (tmp_path / SPEC_FILE).write_text(json.dumps(dict(spec, architecture="os.system")))
    with pytest.raises(ValueError, match="unknown policy architecture 'os.system'; known: actor_critic, bco, gaussian, ilpo, mlp, table"):
        read_policy(tmp_path)
    (tmp_path / SPEC_FILE).write_text(json.dumps(dict(spec, format_version=99)))
    with pytest.raises(ValueError, match="format version 99"):
        read_policy(tmp_path)
    (tmp_path / SPEC_FILE).write_text(json.dumps(dict(spec, kwargs={"hidden": [16]})))
    with pytest.raises(ValueError, match="do not fit architecture 'mlp'"):
        read_policy(tmp_path)
    (tmp_path / SPEC_FILE).write_text(json.dumps(dict(spec, kwargs={"width": 16})))
    with pytest.raises(ValueError, match="do not fit architecture 'mlp'"):
        read_policy(tmp_path)


class Exploit:
    """Writes a marker file when unpickled: loading must never get that far."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_objects_in_the_weights_are_refused_and_never_run(tmp_path):
    POLICIES["mlp-box"]().save(tmp_path)
    marker = tmp_path / "pwned"
    torch.save({"logits.0.weight": Exploit(str(marker))}, tmp_path / WEIGHTS_FILE)
    with pytest.raises(ValueError, match="refusing to load"):
        read_policy(tmp_path)
    assert not marker.exists()


def test_load_policy_reads_a_run_directory_or_a_policy_directory(tmp_path):
    policy = POLICIES["mlp-box"]()
    policy.save(tmp_path / "run" / "checkpoint")
    obs = observations(BOX, 8)
    assert np.array_equal(lfo_ray.load_policy(tmp_path / "run").act(obs), policy.act(obs))
    assert np.array_equal(lfo_ray.load_policy(tmp_path / "run" / "checkpoint").act(obs), policy.act(obs))
    with pytest.raises(FileNotFoundError, match="no saved policy"):
        lfo_ray.load_policy(tmp_path / "empty")


def test_importing_lfo_ray_stays_cheap():
    code = ("import sys, lfo_ray; heavy = [m for m in ('torch', 'ray') if m in sys.modules]; "
            "assert not heavy, heavy; assert lfo_ray.Policy.__name__ == 'Policy'")
    subprocess.run([sys.executable, "-c", code], check=True)
