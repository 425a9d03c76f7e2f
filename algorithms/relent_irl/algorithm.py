"""Relative entropy IRL on GridWorld: the reward is learned without the transition model.

    c_E = the demonstrator's discounted state counts (goal absorbing, as tabular/model.py)
    sample N trajectories in the environment with the sampling policy pi, once
    C = their discounted state counts (N, S), sparse
    log w0 = log U(tau) / pi(tau)                                     # no dynamics needed
    theta = 0
    repeat: theta += Adam step along phi^T (c_E - C^T w) - eps sign(theta),
            w = softmax(C phi theta + log w0) within the samples of each start s_0,
                the starts mixed by the demonstrations' start frequencies (match_starts)
    derive the policy by value iteration on r = phi theta (this step does use the model)

Sampled trajectories last the environment's horizon (or stop once all reached the goal); one
that reached the goal stays there.

Why per-start normalisation (match_starts): P(tau) ~ Q(tau) exp(theta . f(tau)) normalised over
all samples at once tilts P's start distribution by each start's partition function Z(s_0):
a handful of trajectories from the starts with the largest Z took nearly all the weight
(effective sample size ~8 of 5,000 on the 50x50 GridWorld) and the learned reward only
explained those. Conditioning P on s_0 -- P(tau) = p_E(s_0) P(tau | s_0), as MaxEnt's forward
pass does -- keeps every start's samples in play (effective sample size ~700). Demonstrations
from starts no sample shares are left out of c_E, since they cannot be matched.

rounds > 1 (optional, off by default) adds adaptive importance sampling: every later round
samples with the finite-horizon soft-optimal policy of the current reward (derived with the
model, like the deployed policy) and pools all rounds by multiple importance sampling; the
gradient itself stays model-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.relent_irl.config import RelEntIRLConfig
from lfo_ray.algorithms.relent_irl.losses import (
    dual_gradient,
    hoeffding_epsilon,
    log_importance_ratios,
    trajectory_weights,
)
from lfo_ray.algorithms.tabular import (
    TabularModel,
    demo_start_distribution,
    demo_state_counts,
    soft_value_iteration,
    state_features,
    table_policy,
    value_iteration,
)
from lfo_ray.algorithms.tabular.irl import exact_return, irl_metrics, save_irl_checkpoint, tabular_env_only
from lfo_ray.algorithms.tabular.visitation import discounts
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput
from lfo_ray.nets import pick_device
from lfo_ray.rollout import VectorDriver


class TimedSampler:
    """Samples actions from a time-indexed table probs (H, S, A) with its own generator."""

    def __init__(self, probs: torch.Tensor, seed: int) -> None:
        self.cumulative = probs.cumsum(dim=2).cpu().numpy()
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, t: int) -> np.ndarray:
        states = np.asarray(obs, dtype=np.int64)
        cumulative = self.cumulative[t, states]
        draws = self.rng.random(states.shape)[:, None]
        return np.minimum((draws > cumulative).sum(axis=1), cumulative.shape[1] - 1)


def sample_trajectories(env: gym.vector.VectorEnv, policy: TimedSampler, horizon: int,
                        seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One trajectory per sub-env of up to `horizon` steps, acting with `policy` (stops early
    once every trajectory has ended).

    Returns states (N, H+1) (s_0..s_H; a finished trajectory repeats its last state), actions
    (N, H), mask (N, H) True for real steps, and the number of environment steps taken.
    """
    driver = VectorDriver(env, seed)
    count = env.num_envs
    states = np.zeros((count, horizon + 1), dtype=np.int64)
    actions = np.zeros((count, horizon), dtype=np.int64)
    mask = np.zeros((count, horizon), dtype=bool)
    running = np.ones(count, dtype=bool)
    states[:, 0] = driver.obs
    for t in range(horizon):
        actions[:, t] = policy.act(driver.obs, t)
        batch, _, _ = driver.step(actions[:, t])
        real = running & batch.valid
        states[:, t + 1] = np.where(real, batch.next_obs, states[:, t])
        mask[:, t] = real
        running &= ~(batch.terminated | batch.truncated)
        if not running.any():
            states[:, t + 2:] = states[:, t + 1:t + 2]
            break
    return states, actions, mask, int(mask.sum())


def discounted_counts(entered: torch.Tensor, num_states: int, gamma: float) -> torch.Tensor:
    """(N, S) sparse: sum_t gamma^t onehot(entered[n, t]) for entered states (N, T)."""
    count, steps = entered.shape
    rows = torch.arange(count, device=entered.device).repeat_interleave(steps)
    values = discounts(steps, gamma, entered.device).repeat(count)
    indices = torch.stack([rows, entered.reshape(-1)])
    return torch.sparse_coo_tensor(indices, values, (count, num_states), check_invariants=True).coalesce()


def train(config: RelEntIRLConfig, ctx: RunContext) -> TrainOutput:
    model = TabularModel.from_env_kwargs(ctx.env_kwargs, pick_device(config.device))
    device = model.device
    if len(config.sampling_probs) != model.num_actions:
        raise ValueError(f"sampling_probs needs {model.num_actions} probabilities, got {config.sampling_probs}")
    features = state_features(config.features, model)
    expert_counts = demo_state_counts(ctx.demos, model, config.gamma)
    demo_start = demo_start_distribution(ctx.demos, model)
    feature_range = features.max(dim=0).values - features.min(dim=0).values
    epsilon = hoeffding_epsilon(feature_range, len(ctx.demos), model.horizon, config.gamma, config.delta)

    shape = (model.horizon, model.num_states, model.num_actions)
    fixed = torch.as_tensor(config.sampling_probs, dtype=torch.float64, device=device).expand(shape)
    baseline_probs = torch.full((1, 1, 1), 1.0 / model.num_actions, dtype=torch.float64, device=device).expand(shape)
    theta = torch.zeros(features.shape[1], dtype=torch.float64, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=config.lr)
    env = ctx.make_env(config.num_samples)
    batches: list[SampleBatch] = []
    samplers: list[torch.Tensor] = []
    env_steps = 0
    iteration = 0
    for round_ in range(config.rounds):
        with torch.no_grad():
            sampler_probs = fixed if round_ == 0 else adaptive_sampler(model, features @ theta, fixed, config)
        samplers.append(sampler_probs)
        round_seed = int(np.random.SeedSequence([ctx.seed, round_]).generate_state(1)[0] % 2**31)
        sampler = TimedSampler(sampler_probs, round_seed)
        states, actions, mask, steps = sample_trajectories(env, sampler, model.horizon, round_seed)
        env_steps += steps
        batches.append(SampleBatch.build(states, actions, mask, model.num_states, config.gamma, device))
        sample_counts, log_ratios = pooled_samples(batches, samplers, baseline_probs)
        starts = torch.cat([b.starts for b in batches])
        grouping = (starts, demo_start) if config.match_starts else (None, None)
        if config.match_starts:
            expert_counts = covered_demo_counts(ctx.demos, model, config.gamma, starts)
        for _ in range(config.iterations):
            with torch.no_grad():
                gradient = dual_gradient(theta, features, expert_counts, sample_counts, log_ratios, epsilon,
                                         *grouping)
            theta.grad = -gradient
            optimizer.step()
            ctx.writer.add_scalar("losses/dual_gradient_l1", gradient.abs().sum().item(), iteration)
            if iteration % config.eval_every == 0:
                with torch.no_grad():
                    weights = trajectory_weights(features @ theta, sample_counts, log_ratios, *grouping)
                    policy = derive_policy(model, features @ theta, config)
                ctx.writer.add_scalar("charts/effective_samples", (1.0 / (weights ** 2).sum()).item(), iteration)
                ctx.report(env_steps, exact_return(model, policy, config.greedy), step=iteration)
            iteration += 1
    env.close()

    with torch.no_grad():
        reward = features @ theta
        policy = derive_policy(model, reward, config)
        weights = trajectory_weights(reward, sample_counts, log_ratios, *grouping)
    deployed = table_policy(policy.cpu().numpy(), greedy=config.greedy, seed=ctx.seed)
    save_irl_checkpoint(ctx.checkpoint_dir, model, theta, reward, deployed, "RelEnt IRL reward",
                        {"features": config.features, "gamma": config.gamma, "plan_gamma": config.plan_gamma,
                         "goal_margin": config.goal_margin, "horizon": model.horizon})
    metrics = irl_metrics(model, reward, deployed)
    metrics["effective_samples"] = float(1.0 / (weights ** 2).sum())
    metrics["samples"] = int(sample_counts.shape[0])
    return TrainOutput(policy=deployed, env_steps=env_steps, metrics=metrics)


def covered_demo_counts(demos, model: TabularModel, gamma: float, starts: torch.Tensor) -> torch.Tensor:
    """Mean discounted counts (S,) of the demonstrations whose first state some sample shares:
    P is conditioned on the start, so only those starts can be matched."""
    sampled = set(torch.unique(starts).tolist())
    keep = [i for i, episode in enumerate(demos.episodes) if int(episode.observations[0]) in sampled]
    return demo_state_counts(demos.select(keep), model, gamma)


@dataclass(frozen=True)
class SampleBatch:
    """One round of sampled trajectories: first states (N,), the states the actions were taken
    in (N, H), actions (N, H), mask (N, H) and discounted entered-state counts (N, S) sparse."""

    starts: torch.Tensor
    acted: torch.Tensor
    actions: torch.Tensor
    mask: torch.Tensor
    counts: torch.Tensor

    @classmethod
    def build(cls, states: np.ndarray, actions: np.ndarray, mask: np.ndarray, num_states: int,
              gamma: float, device: torch.device) -> "SampleBatch":
        states = torch.as_tensor(states, device=device)
        return cls(states[:, 0], states[:, :-1], torch.as_tensor(actions, device=device),
                   torch.as_tensor(mask, device=device), discounted_counts(states[:, 1:], num_states, gamma))


def pooled_samples(batches: list[SampleBatch], samplers: list[torch.Tensor],
                   baseline_probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """All rounds' counts (N, S) and log U(tau) / q(tau) (N,), q the mixture of the rounds'
    samplers weighted by their sample sizes (the balance heuristic of multiple importance
    sampling). Every round shares the dynamics and the start distribution, so both cancel."""
    counts = torch.cat([b.counts for b in batches]).coalesce()
    acted = torch.cat([b.acted for b in batches])
    actions = torch.cat([b.actions for b in batches])
    mask = torch.cat([b.mask for b in batches])
    sizes = torch.tensor([float(b.starts.shape[0]) for b in batches], dtype=torch.float64, device=acted.device)
    log_sampler = torch.stack([
        -log_importance_ratios(acted, actions, mask, baseline_probs, probs) for probs in samplers
    ])  # (K, N): log pi_k(tau) / U(tau)
    log_mixture = torch.logsumexp(log_sampler + torch.log(sizes / sizes.sum())[:, None], dim=0)
    return counts, -log_mixture


def adaptive_sampler(model: TabularModel, reward: torch.Tensor, fixed: torch.Tensor,
                     config: RelEntIRLConfig) -> torch.Tensor:
    """(H, S, A) the next round's sampling policy: the finite-horizon soft-optimal policy of the
    current reward with the entered state at step t paid gamma^t r(s_{t+1}), i.e. the per-step
    policy whose trajectory distribution is P(tau) ~ U(tau) exp(theta . f(tau)) when the
    transitions are deterministic, mixed with the fixed sampler so that every action keeps
    support. Importance weights correct whatever differs (noisy transitions, the mixture)."""
    horizon = fixed.shape[0]
    weights = discounts(horizon, config.gamma, reward.device)
    probs = torch.empty(fixed.shape, dtype=reward.dtype, device=reward.device)
    values = torch.zeros_like(reward)
    for t in range(horizon - 1, -1, -1):
        q = model.expected_next(weights[t] * reward + values)
        values = torch.logsumexp(q, dim=1)
        probs[t] = torch.softmax(q, dim=1)
    return (1.0 - config.sampler_mix) * probs + config.sampler_mix * fixed


def derive_policy(model: TabularModel, reward: torch.Tensor, config: RelEntIRLConfig) -> torch.Tensor:
    """(S, A) policy of the learned reward, the goal raised to max + goal_margin first: greedy in
    the optimal action values, or the soft-optimal policy."""
    if config.goal_margin >= 0:
        reward = reward.clone()
        reward[model.goal] = reward.max() + config.goal_margin
    if config.greedy:
        _, q = value_iteration(model, reward, config.plan_gamma)
        return torch.nn.functional.one_hot(q.argmax(dim=1), model.num_actions).to(reward.dtype)
    return soft_value_iteration(model, reward, config.plan_gamma).policy


ALGORITHM = AlgorithmSpec(
    name="relent_irl",
    supports=tabular_env_only("relent_irl"),
    config_cls=RelEntIRLConfig,
    train=train,
    observation_only=True,
    description="Relative entropy IRL (Boularias 2011): model-free importance sampling, uniform baseline, start-conditioned.",
    placements=("local",),
    resumable=False,
)
