"""ILPO: hand-checked losses and labels, networks, and tiny end-to-end runs (in-process, Ray, images,
resume), plus one learning test on CartPole."""

from __future__ import annotations

import json
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.ilpo import diagnostics as diag
from lfo_ray.algorithms.ilpo.algorithm import cosine_lr
from lfo_ray.algorithms.ilpo.config import ILPOConfig
from lfo_ray.algorithms.ilpo.losses import arn_loss, assignment_term, closest_latent, lpn_loss, lpn_terms
from lfo_ray.algorithms.ilpo.networks import ConvEncoder, ILPOPolicy, build_networks, unsupported_spaces
from lfo_ray.batch import SampleBatch
from lfo_ray.checkpoint import safe_torch_load
from lfo_ray.collect import EpisodeCollector
from lfo_ray.data import DatasetMetadata, ObsDataset, space_to_dict, write_dataset
from lfo_ray.envs import PIXEL_GRIDWORLD, make_vector_env
from lfo_ray.experiment import evaluate_run, train_run

TINY = {"lpn_steps": 20, "lpn_log_every": 10, "lpn_batch_size": 16, "hidden": 16, "conv_channels": 4,
        "interaction_budget": 100, "chunk_steps": 50, "eval_every": 50, "eval_episodes": 2,
        "arn_batch_size": 8, "arn_updates_per_step": 0.1}



class RandomPolicy:
    def __init__(self, n: int, seed: int) -> None:
        self.n, self.rng = n, np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.integers(self.n, size=len(obs))


class CartPoleController:
    """A linear state-feedback controller that holds CartPole up for 500 steps."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        x, x_dot, theta, theta_dot = np.asarray(obs).T
        return (0.1 * x + 0.5 * x_dot + 10 * theta + 2 * theta_dot > 0).astype(np.int64)


def write_demos(path, env_id: str, policy, episodes: int, **env_kwargs):
    collector = EpisodeCollector(make_vector_env(env_id, 4, **env_kwargs), policy, seed=0)
    probe = gym.make(env_id, **env_kwargs)
    metadata = DatasetMetadata(env_id=env_id, observation_space=space_to_dict(probe.observation_space),
                               action_space=space_to_dict(probe.action_space), source="test")
    return write_dataset(ObsDataset.from_episodes(collector.collect(episodes), metadata), path)


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    return write_demos(tmp_path_factory.mktemp("ilpo") / "cartpole.parquet", "CartPole-v1",
                       RandomPolicy(2, 0), 8)


# ---------------------------------------------------------------------------------------------
# Losses and labels, by hand


def test_lpn_terms_by_hand():
    obs = torch.zeros(2, 2)
    next_obs = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    # Latent 0 predicts (1, 0), latent 1 predicts (0, 0), for both states.
    deltas = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]] * 2)
    logits = torch.zeros(2, 2)  # pi = (0.5, 0.5)
    min_term, expected_term, errors = lpn_terms(next_obs - obs, deltas, logits)
    # Squared errors: state 0 -> (0, 1); state 1 -> (1 + 4, 4).
    assert errors.tolist() == [[0.0, 1.0], [5.0, 4.0]]
    assert min_term.item() == pytest.approx((0.0 + 4.0) / 2)
    # Expected next state (0.5, 0): state 0 -> 0.25; state 1 -> 0.25 + 4.
    assert expected_term.item() == pytest.approx((0.25 + 4.25) / 2)
    loss, metrics = lpn_loss(next_obs - obs, deltas, logits)
    assert loss.item() == pytest.approx(2.0 + 2.25)
    assert metrics["latent_entropy"] == pytest.approx(math.log(2))
    assert metrics["latent_usage_max"] == pytest.approx(0.5)


def test_assignment_term_by_hand():
    errors = torch.tensor([[0.0, 1.0], [5.0, 4.0]], requires_grad=True)
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]], requires_grad=True)
    term = assignment_term(errors, logits)
    # Closest latents (0, 1): -log(3/4) for state 0, -log(1/2) for state 1.
    assert term.item() == pytest.approx((math.log(4 / 3) + math.log(2)) / 2)
    grad_errors, grad_logits = torch.autograd.grad(term, (errors, logits), allow_unused=True)
    assert grad_errors is None or not grad_errors.any()
    # d/dlogits of the mean cross-entropy: (softmax - one_hot) / B.
    assert grad_logits.flatten().tolist() == pytest.approx([-0.125, 0.125, 0.25, -0.25])
    # Collinear latent changes -1, 0, +1 and a demonstrator who pushes +1 three times in four
    # and not at all once: the expected term is as low for a policy that never picks +1
    # (pi = (1/8, 0, 7/8) and (0, 1/4, 3/4) both average 3/4), the assignment term is not.
    deltas = torch.tensor([[[-1.0], [0.0], [1.0]]] * 4)
    target = torch.tensor([[1.0], [1.0], [1.0], [0.0]])
    mixtures = {"mode": torch.tensor([0.0, 0.25, 0.75]), "no mode": torch.tensor([0.125, 0.0, 0.875])}
    for pi in mixtures.values():
        _, expected, errors = lpn_terms(target, deltas, pi.clamp_min(1e-9).log().expand(4, 3))
        assert expected.item() == pytest.approx(0.1875, abs=1e-6)
    logits = lambda pi: pi.clamp_min(1e-9).log().expand(4, 3)  # noqa: E731
    assert (assignment_term(errors, logits(mixtures["mode"]))
            < assignment_term(errors, logits(mixtures["no mode"])))
    loss, metrics = lpn_loss(target, deltas, logits(mixtures["mode"]), "assignment")
    assert loss.item() == pytest.approx(metrics["lpn_min"] + metrics["lpn_assignment"])
    with pytest.raises(ValueError, match="policy_term"):
        lpn_loss(target, deltas, logits(mixtures["mode"]), "other")


def test_min_term_trains_only_the_closest_prediction_and_never_the_policy():
    obs = torch.zeros(1, 2)
    next_obs = torch.tensor([[1.0, 0.0]])
    deltas = torch.tensor([[[0.5, 0.0], [0.0, 3.0]]], requires_grad=True)
    logits = torch.tensor([[0.3, -0.2]], requires_grad=True)
    min_term, expected_term, _ = lpn_terms(next_obs - obs, deltas, logits)
    grad_deltas, grad_logits = torch.autograd.grad(min_term, (deltas, logits), allow_unused=True)
    # d/d delta_0 of ||delta_0 - (1, 0)||^2 = 2 (delta_0 - (1, 0)); latent 1 is not the min.
    assert grad_deltas.tolist() == [[[-1.0, 0.0], [0.0, 0.0]]]
    assert grad_logits is None or not grad_logits.any()


def test_expected_term_trains_the_policy_and_never_the_generator():
    obs = torch.zeros(1, 2)
    next_obs = torch.tensor([[1.0, 0.0]])
    deltas = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]], requires_grad=True)
    logits = torch.zeros(1, 2, requires_grad=True)
    _, expected_term, _ = lpn_terms(next_obs - obs, deltas, logits)
    grad_deltas, grad_logits = torch.autograd.grad(expected_term, (deltas, logits), allow_unused=True)
    assert grad_deltas is None or not grad_deltas.any()
    # E = ||p0 (1, 0) - (1, 0)||^2 = (p0 - 1)^2; dE/dlogit_0 = 2 (p0 - 1) p0 (1 - p0) = -0.25.
    assert grad_logits[0].tolist() == pytest.approx([-0.25, 0.25])


def test_lpn_gradients_reach_generator_and_policy_head_separately():
    space = gym.spaces.Box(-1, 1, (3,), np.float32)
    lpn, _ = build_networks(space, 2, 3, hidden=8, conv_channels=4)
    obs, next_obs = torch.randn(5, 3), torch.randn(5, 3)
    deltas, logits = lpn(obs)
    min_term, expected_term, _ = lpn_terms(next_obs - obs, deltas, logits)
    generator = [*lpn.generator.parameters(), *lpn.mix_state.parameters(), *lpn.mix_latent.parameters(),
                 *lpn.latent_embedding.parameters()]
    head = list(lpn.policy_head.parameters())
    from_expected = torch.autograd.grad(expected_term, generator + head, allow_unused=True, retain_graph=True)
    from_min = torch.autograd.grad(min_term, generator + head, allow_unused=True)
    no_grad = lambda g: g is None or not g.any()  # noqa: E731
    assert all(no_grad(g) for g in from_expected[:len(generator)])
    assert any(not no_grad(g) for g in from_expected[len(generator):])
    assert all(no_grad(g) for g in from_min[len(generator):])
    assert any(not no_grad(g) for g in from_min[:len(generator)])


def test_closest_latent_picks_the_nearest_prediction():
    predicted = torch.tensor([
        [[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]],
        [[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]],
        [[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0]],
    ])
    actual = torch.tensor([[0.9, 1.2], [4.0, 4.5], [-2.0, 0.5]])
    assert closest_latent(predicted, actual).tolist() == [1, 2, 2]


def test_diagnostics_by_hand():
    assert diag.shares(np.array([0, 0, 2, 0]), 3).tolist() == [0.75, 0.0, 0.25]
    assert diag.used(np.array([0] * 97 + [1] * 3), 3) == 1 and diag.used(np.array([0, 1, 2]), 3) == 3
    # Label 0 holds actions (1, 1, 2), label 1 holds (0): 2 + 1 of 4 steps are their label's majority.
    assert diag.purity(np.array([0, 0, 0, 1]), np.array([1, 1, 2, 0])) == pytest.approx(0.75)
    maxp, entropy = diag.peakedness(np.array([[1.0, 0.0], [0.5, 0.5]]))
    assert maxp == pytest.approx(0.75) and entropy == pytest.approx(0.5)
    reference = np.array([[0.0, 0.0], [3.0, 4.0]])
    points = np.array([[0.0, 1.0], [3.0, 4.0], [6.0, 8.0]])
    assert diag.nearest_distance(points, reference).tolist() == pytest.approx([1.0, 0.0, 5.0])
    assert diag.nearest_index(points, reference).tolist() == [0, 1, 1]
    assert diag.first_exits([np.array([0.1, 0.2, 3.0, 0.1]), np.array([0.1, 0.1])], 1.0) == [2, 2]


def test_delta_standardize_predicts_and_remaps_standardised_changes(cartpole_demos):
    from lfo_ray.algorithms.ilpo.algorithm import ILPOLearner

    space = gym.make("CartPole-v1").observation_space
    plain = ILPOLearner(ILPOConfig(**TINY, delta_standardize=False), space, 2, 2, str(cartpole_demos), 0)
    learner = ILPOLearner(ILPOConfig(**TINY, delta_standardize=True), space, 2, 2, str(cartpole_demos), 0)
    buffer = learner.demos.buffer
    x, x_next = learner._x(buffer.obs), learner._x(buffer.next_obs)
    change = learner._change(x, x_next)
    assert change.mean(0).abs().max().item() < 1e-4
    assert change.std(0, unbiased=False).tolist() == pytest.approx([1.0] * 4, abs=1e-3)
    assert torch.equal(plain._change(x, x_next), x_next - x)
    # By hand: latent 0 predicts a standardised change of 0, latent 1 of +1 in every dimension.
    hand = torch.stack([torch.zeros(4), torch.ones(4)])
    learner.lpn.forward = lambda obs: (hand.expand(len(obs), 2, 4), torch.zeros(len(obs), 2))
    obs = torch.zeros(2, 4)
    grown = learner.delta.unnormalize(torch.tensor([[0.9] * 4, [0.2] * 4]))
    assert learner.remap_labels(obs, obs + grown).tolist() == [1, 0]


def test_learner_tensors_follow_its_device(cartpole_demos, monkeypatch):
    """Everything the learner builds and feeds its losses lives on `config.device`: torch's data-less
    "meta" device stands in for a GPU (an op mixing it with a CPU tensor raises, as CUDA would)."""
    from lfo_ray.algorithms.ilpo import algorithm as ilpo_algorithm

    seen: list[torch.device] = []

    def record(*tensors):
        seen.extend(t.device for t in tensors)
        return sum(t.float().sum() for t in tensors), {}   # the real losses call .item(): no data on meta

    monkeypatch.setattr(ilpo_algorithm, "lpn_loss", lambda target, deltas, logits, term: record(target, deltas, logits))
    monkeypatch.setattr(ilpo_algorithm, "arn_loss", lambda logits, actions: record(logits, actions))
    space = gym.make("CartPole-v1").observation_space
    learner = ilpo_algorithm.ILPOLearner(ILPOConfig(**TINY, device="meta"), space, 2, 2, str(cartpole_demos), 0)
    assert learner.device == torch.device("meta")
    learner.train_lpn(2)
    rng = np.random.default_rng(0)
    obs, next_obs = rng.normal(size=(2, 8, 4)).astype(np.float32)
    learner.update(SampleBatch(obs, rng.integers(2, size=8), np.zeros(8, np.float32), next_obs,
                               np.zeros(8, bool), np.zeros(8, bool)))
    moments = [value for optimizer in learner.optimizers.values() for state in optimizer.state.values()
               for value in state.values() if torch.is_tensor(value) and value.dim()]
    built = [*learner.lpn.state_dict().values(), *learner.arn.state_dict().values(),
             *learner.delta.buffers(), *moments]
    assert len(seen) == 3 * 2 + 2 and moments
    assert {d.type for d in seen} | {t.device.type for t in built} == {"meta"}


def test_arn_loss_is_cross_entropy():
    loss, metrics = arn_loss(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))
    assert loss.item() == pytest.approx(math.log(3))
    loss, metrics = arn_loss(torch.tensor([[5.0, -5.0], [-5.0, 5.0]]), torch.tensor([0, 1]))
    assert metrics["arn_accuracy"] == 1.0
    assert loss.item() == pytest.approx(math.log1p(math.exp(-10)), rel=1e-3)


def test_cosine_lr_runs_from_start_to_final():
    assert cosine_lr(0, 100, 1e-3, 1e-5) == pytest.approx(1e-3)
    assert cosine_lr(50, 100, 1e-3, 1e-5) == pytest.approx((1e-3 + 1e-5) / 2)
    assert cosine_lr(100, 100, 1e-3, 1e-5) == pytest.approx(1e-5)
    assert cosine_lr(500, 100, 1e-3, 1e-5) == pytest.approx(1e-5)


# ---------------------------------------------------------------------------------------------
# Networks and config


def test_vector_and_image_networks_predict_one_change_per_latent():
    vector = gym.spaces.Box(-1, 1, (4,), np.float32)
    lpn, arn = build_networks(vector, 2, 5, hidden=8, conv_channels=4)
    deltas, logits = lpn(torch.randn(3, 4))
    assert deltas.shape == (3, 5, 4) and logits.shape == (3, 5)
    assert arn(torch.randn(3, 4), torch.tensor([0, 4, 2])).shape == (3, 2)

    image = gym.spaces.Box(0, 255, (40, 40, 3), np.uint8)
    lpn, arn = build_networks(image, 4, 3, hidden=8, conv_channels=4)
    assert isinstance(lpn.encoder, ConvEncoder)
    assert lpn.normalizer(torch.zeros((1, 40, 40, 3), dtype=torch.uint8)).unique().tolist() == [-1.0]
    x = lpn.normalizer(torch.full((2, 40, 40, 3), 255, dtype=torch.uint8))
    assert x.min().item() == 1.0 and x.max().item() == 1.0
    deltas, logits = lpn(x)
    assert deltas.shape == (2, 3, 40, 40, 3) and logits.shape == (2, 3)
    assert lpn.features(x).shape == (2, 32)
    assert arn(x, torch.tensor([0, 2])).shape == (2, 4)


def test_policy_acts_greedily_or_at_random():
    space, actions = gym.spaces.Box(-1, 1, (4,), np.float32), gym.spaces.Discrete(2)
    actions.seed(0)
    greedy = ILPOPolicy(space, actions, n_latent=2, hidden=8, conv_channels=4)
    obs = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    assert greedy.act(obs).shape == (200,)
    with torch.no_grad():
        for p in greedy.arn.head[-1].parameters():
            p.zero_()
        greedy.arn.head[-1].bias[1] = 1.0  # the ARN always says action 1
    assert (greedy.act(obs) == 1).all()
    explorer = ILPOPolicy(space, actions, n_latent=2, hidden=8, conv_channels=4, epsilon=1.0)
    explorer.set_weights({"lpn": {k: v.numpy() for k, v in greedy.lpn.state_dict().items()},
                          "arn": {k: v.numpy() for k, v in greedy.arn.state_dict().items()}})
    assert 0 < (explorer.act(obs) == 1).mean() < 1


def test_spaces_and_config_are_checked():
    assert "divisible by 8" in unsupported_spaces(gym.spaces.Box(0, 255, (30, 30, 3), np.uint8),
                                                  gym.spaces.Discrete(4))
    assert "Discrete action" in unsupported_spaces(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-1, 1, (1,)))
    assert "PixelGridWorld" in unsupported_spaces(gym.spaces.Discrete(3), gym.spaces.Discrete(4))
    assert unsupported_spaces(gym.spaces.Box(0, 255, (40, 40, 3), np.uint8), gym.spaces.Discrete(4)) is None
    with pytest.raises(ValueError, match="multiples"):
        ILPOConfig(num_workers=3, chunk_steps=50)
    with pytest.raises(ValueError, match="n_latent"):
        ILPOConfig(n_latent=1)
    with pytest.raises(ValueError, match="sampling must be one of"):
        ILPOConfig(sampling="fast")
    with pytest.raises(ValueError, match="max_policy_lag"):
        ILPOConfig(max_policy_lag=-1)


def test_learner_streams_demonstrations_larger_than_its_buffer(cartpole_demos):
    from lfo_ray.algorithms.ilpo.algorithm import ILPOLearner

    config = ILPOConfig(**{**TINY, "demo_buffer_rows": 32})
    learner = ILPOLearner(config, gym.make("CartPole-v1").observation_space, 2, 2, str(cartpole_demos), 0)
    assert learner.demos.streaming  # refilled from the file at every step, wrapping around it
    metrics = learner.train_lpn(30)
    assert learner.lpn_steps == 30 and all(math.isfinite(v) for v in metrics.values())


# ---------------------------------------------------------------------------------------------
# Runs


def _check_result(result: dict, out, budget: int, eval_every: int) -> None:
    assert result["algo"] == "ilpo"
    assert result["env_steps"] == budget
    steps = [point[0] for point in result["curve"]]
    assert steps == list(range(0, budget + 1, eval_every))
    assert result["metrics"]["lpn_steps"] == result["config"]["lpn_steps"]
    assert np.isfinite(result["return_mean"])
    assert json.loads((out / "result.json").read_text())["env_steps"] == budget
    assert (out / "checkpoint" / "state.pt").exists()


def test_in_process_run_spends_exactly_the_budget(tmp_path, cartpole_demos):
    result = train_run("ilpo", "CartPole-v1", cartpole_demos, 0, tmp_path, overrides=TINY,
                       eval_episodes=2, placement="local", progress=False)
    _check_result(result, tmp_path, 100, 50)
    assert result["metrics"]["arn_updates"] == 10
    assert result["metrics"]["n_latent"] == 2
    # The demonstrations were written with actions, so every diagnostic is measured.
    diagnostics = {k: v for k, v in result["metrics"].items() if k.startswith("diag_")}
    assert len(diagnostics) == 11 and all(math.isfinite(v) for v in diagnostics.values())
    assert 1 <= diagnostics["diag_latents_used"] <= 2 and 0.5 <= diagnostics["diag_remap_maxp"] <= 1
    assert evaluate_run(tmp_path, episodes=2)["episodes"] == 2


@pytest.mark.ray
def test_ray_run_with_two_workers(tmp_path, cartpole_demos, ray_session):
    overrides = dict(TINY, num_workers=2)
    result = train_run("ilpo", "CartPole-v1", cartpole_demos, 1, tmp_path, overrides=overrides,
                       eval_episodes=2, placement="ray", progress=False)
    _check_result(result, tmp_path, 100, 50)
    assert result["placement"] == "ray"


def _check_async(result: dict, out, max_lag: int) -> None:
    """The budget spent exactly (the replay got every interaction, none more) and the lag bound kept."""
    _check_result(result, out, 100, 50)
    assert safe_torch_load(out / "checkpoint" / "state.pt")["replay"]["added"] == 100
    assert result["metrics"]["arn_updates"] == 10
    assert 0 <= result["metrics"]["max_policy_lag"] <= max_lag
    assert any(b"charts/policy_lag" in path.read_bytes() for path in (out / "tb").glob("events.out.tfevents.*"))


class Crash(Exception):
    pass


def _crash_then_resume(monkeypatch, out, demos, seed: int, overrides: dict, placement: str) -> tuple[dict, dict]:
    """Runs until the checkpoint after the evaluation at 50 interactions, crashes, resumes; returns that
    checkpoint and the resumed run's result."""
    from lfo_ray.algorithms.ilpo import algorithm as ilpo_algorithm

    real_save = ilpo_algorithm.save_checkpoint

    def crash_at_the_first_evaluation(directory, state):
        real_save(directory, state)
        if state["env_steps"] == 50:
            raise Crash

    monkeypatch.setattr(ilpo_algorithm, "save_checkpoint", crash_at_the_first_evaluation)
    with pytest.raises(Crash):
        train_run("ilpo", "CartPole-v1", demos, seed, out, overrides=overrides, eval_episodes=2,
                  placement=placement, progress=False)
    monkeypatch.setattr(ilpo_algorithm, "save_checkpoint", real_save)
    saved = safe_torch_load(out / "checkpoint" / "state.pt")
    return saved, train_run("ilpo", "CartPole-v1", demos, seed, out, overrides=overrides, eval_episodes=2,
                            placement=placement, progress=False, resume=True)


def test_async_sampling_in_process_spends_exactly_the_budget_and_resumes_exactly(tmp_path, cartpole_demos,
                                                                                 monkeypatch):
    overrides = dict(TINY, num_workers=2, sampling="async", max_policy_lag=0)
    result = train_run("ilpo", "CartPole-v1", cartpole_demos, 0, tmp_path / "whole", overrides=overrides,
                       eval_episodes=2, placement="local", progress=False)
    _check_async(result, tmp_path / "whole", 0)
    # In-process the chunks are sampled in the training loop: nothing runs ahead, and a resumed run
    # is the uninterrupted one.
    saved, resumed = _crash_then_resume(monkeypatch, tmp_path / "parts", cartpole_demos, 0, overrides, "local")
    assert saved["sampled"] == saved["replay"]["added"] == 50
    _check_async(resumed, tmp_path / "parts", 0)
    assert resumed["curve"] == result["curve"]
    assert resumed["metrics"]["final_arn"] == result["metrics"]["final_arn"]


@pytest.mark.ray
def test_async_sampling_on_ray_keeps_the_lag_bound_and_the_budget(tmp_path, cartpole_demos, ray_session):
    overrides = dict(TINY, num_workers=2, chunk_steps=10, sampling="async", max_policy_lag=1)
    result = train_run("ilpo", "CartPole-v1", cartpole_demos, 1, tmp_path, overrides=overrides,
                       eval_episodes=2, placement="ray", progress=False)
    _check_async(result, tmp_path, 1)
    assert result["placement"] == "ray"


@pytest.mark.ray
@pytest.mark.slow
def test_async_resume_on_ray_continues_from_the_steps_run_ahead(tmp_path, cartpole_demos, ray_session,
                                                                monkeypatch):
    overrides = dict(TINY, num_workers=2, chunk_steps=10, sampling="async", max_policy_lag=1)
    saved, resumed = _crash_then_resume(monkeypatch, tmp_path, cartpole_demos, 1, overrides, "ray")
    # The workers ran up to one chunk ahead of the ARN; the checkpoint waited for them.
    assert saved["env_steps"] == 50 and 50 <= saved["sampled"] == saved["replay"]["added"] <= 60
    _check_async(resumed, tmp_path, 1)


def test_image_ilpo_on_pixel_gridworld(tmp_path):
    from lfo_ray.envs.pixel_gridworld import pixel_expert

    demos = write_demos(tmp_path / "pixels.parquet", PIXEL_GRIDWORLD, pixel_expert(), 6)
    overrides = dict(TINY, lpn_steps=4, lpn_log_every=2, n_latent=5, interaction_budget=50)
    result = train_run("ilpo", PIXEL_GRIDWORLD, demos, 0, tmp_path / "run", overrides=overrides,
                       eval_episodes=2, placement="local", progress=False)
    _check_result(result, tmp_path / "run", 50, 50)
    assert result["metrics"]["n_latent"] == 5


def test_resume_continues_the_counters(tmp_path, cartpole_demos):
    first = train_run("ilpo", "CartPole-v1", cartpole_demos, 0, tmp_path, overrides=TINY,
                      eval_episodes=2, placement="local", progress=False)
    more = dict(TINY, interaction_budget=200)
    resumed = train_run("ilpo", "CartPole-v1", cartpole_demos, 0, tmp_path, overrides=more,
                        eval_episodes=2, placement="local", progress=False, resume=True)
    assert resumed["env_steps"] == 200
    assert resumed["curve"][:3] == first["curve"]
    assert [p[0] for p in resumed["curve"]] == [0, 50, 100, 150, 200]
    assert resumed["metrics"]["arn_updates"] == 20
    # The LPN phase was finished, not repeated.
    assert resumed["metrics"]["lpn_steps"] == TINY["lpn_steps"]
    assert "final_lpn_min" not in resumed["metrics"]


@pytest.mark.learning
def test_ilpo_learns_cartpole(tmp_path):
    demos = write_demos(tmp_path / "expert.parquet", "CartPole-v1", CartPoleController(), 20)
    overrides = {"lpn_steps": 1500, "lpn_log_every": 500, "eval_episodes": 5}
    result = train_run("ilpo", "CartPole-v1", demos, 0, tmp_path / "run", overrides=overrides,
                       eval_episodes=10, placement="local", progress=False)
    assert result["env_steps"] == 1000
    assert result["return_mean"] >= 475
