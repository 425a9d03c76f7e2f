"""SAC, the imitation family's off-policy generator (`rl="sac"`), and the loop that runs it.

    learner = SACLearner(actor, twin critics, temperature; the RewardLearner in the same process)
    workers = RolloutGroup(vectorised envs, the actor on CPU)      replay = ReplayBuffer(all transitions)
    sampler = AsyncSampler(workers -> replay, exact env-step budget, policy lag <= max_policy_lag)
    the first learning_starts env steps act uniformly at random
    repeat until total_env_steps:
        wait until rollout_size more transitions are in the replay # async: workers sample the next
                                                                     # chunk while the learner updates
        learner.train(replay, that many env steps):
            reward model: reward_steps steps on expert (Parquet) + agent (replay) minibatches
            one replay pull of utd_ratio * env steps minibatches; rewards relabelled with the
            current reward model at sample time (DAC, OPOLO); that many SAC updates
        sampler.publish(new actor): chunks leased from now on act with it

The learned reward is computed where the minibatches are, so no reward ever crosses a process
boundary, and a transition sampled twice is scored by the reward model of each time. With
`learned_reward=False` the env's own reward is used: plain SAC, which trains the shipped experts
(experiments/train_experts.py).

Throughput: the two critics are one batched network (each layer a (2, in, out) weight and one
`baddbmm`), the actor's loss reads the critics through detached weights (no wasted weight
gradients), every metric stays a tensor until one read per `train` call, and the target update is
one fused lerp over all tensors.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray import metrics as tags
from lfo_ray.algorithms.learned_reward.algorithm import REWARD_FILE
from lfo_ray.algorithms.learned_reward.config import ImitationConfig
from lfo_ray.algorithms.learned_reward.learners import RewardLearner, check_finite_weights, read_metrics
from lfo_ray.algorithms.learned_reward.losses import (
    entropy_temperature_loss,
    sac_actor_loss,
    soft_q_targets,
    twin_q_loss,
)
from lfo_ray.checkpoint import load_checkpoint, save_checkpoint
from lfo_ray.data.parquet import atomic_write
from lfo_ray.distributions import ActionBounds, squashed_sample
from lfo_ray.experiment import RunContext, TrainOutput
from lfo_ray.learner import TorchLearner, to_numpy_state
from lfo_ray.metrics import Progress
from lfo_ray.nets import adam
from lfo_ray.placement import Handle, kill_all, learner_gpus, resolve
from lfo_ray.policy import PolicySpec, WorkerPolicy, policy_from_state
from lfo_ray.replay import ReplayBuffer
from lfo_ray.runner import Evaluator, RolloutGroup
from lfo_ray.sampling import AsyncSampler, quiet
from lfo_ray.seeding import LEARNED_REWARD_EVAL, derive_seed



class TwinQ(nn.Module):
    """Q_1(s, a) and Q_2(s, a) as one network: (B, obs) and (B, D) -> (2, B).

    Each layer is a (2, in, out) weight applied by one batched matmul, so the pair costs the kernel
    launches of one critic. Initialised as nn.Linear (uniform +-1/sqrt(fan_in)), relu between layers.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...], copies: int = 2) -> None:
        super().__init__()
        widths = [obs_dim + action_dim, *hidden, 1]
        self.copies = copies
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(widths[:-1], widths[1:]):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(nn.Parameter(torch.empty(copies, a, b).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(copies, 1, b).uniform_(-bound, bound)))

    def forward(self, obs: torch.Tensor, actions: torch.Tensor, detach_weights: bool = False) -> torch.Tensor:
        x = torch.cat([obs, actions], dim=-1).expand(self.copies, -1, -1)
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            if detach_weights:
                w, b = w.detach(), b.detach()
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = torch.relu(x)
        return x.squeeze(-1)


class Temperature(nn.Module):
    """alpha = exp(log_alpha), SAC's entropy weight, learned towards a target entropy."""

    def __init__(self, initial: float) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.tensor(math.log(initial)))


def actor_spec(config: ImitationConfig, observation_space: gym.Space, action_space: gym.Space) -> PolicySpec:
    """The deployed form of SAC's actor: a tanh-squashed Gaussian, greedy at deployment."""
    return PolicySpec("gaussian", observation_space, action_space,
                      {"hidden": list(config.sac_hidden), "squash": "tanh", "state_dependent_std": True,
                       "activation": "relu", "standardize": False}, greedy=config.greedy)


class SACLearner(TorchLearner):
    """Actor, twin critics and temperature. Given demonstrations, it also holds the RewardLearner of
    config's reward model, and rewards come from that model; else from the env."""

    def __init__(self, config: ImitationConfig, observation_space: gym.Space, action_space: gym.Space, seed: int,
                 env_id: str | None = None, demos_path: str | None = None) -> None:
        super().__init__(config.device)
        reward = None if demos_path is None else RewardLearner(config, env_id, observation_space, action_space,
                                                               demos_path, seed)
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        self.config, self.reward = config, reward
        self.bounds = ActionBounds.of(action_space)
        spec = actor_spec(config, observation_space, action_space)
        self.actor = spec.build().to(self.device)
        self.critic = TwinQ(self.actor.features.dim, self.bounds.dim, config.sac_hidden).to(self.device)
        self.target = copy.deepcopy(self.critic).requires_grad_(False)
        self.temperature = Temperature(config.init_alpha).to(self.device)
        self.target_entropy = -float(self.bounds.dim) if config.target_entropy is None else config.target_entropy
        self.modules = {"actor": self.actor, "critic": self.critic, "critic_target": self.target,
                        "temperature": self.temperature}
        self.optimizers = {"actor": adam(self.actor.parameters(), config.sac_lr),
                           "critic": adam(self.critic.parameters(), config.sac_lr),
                           "temperature": adam(self.temperature.parameters(), config.sac_lr)}
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.owed = 0.0
        """Fractional updates carried to the next call, so utd_ratio holds over the run."""
        self.calls = 0

    def acting_weights(self) -> dict[str, np.ndarray]:
        return to_numpy_state(self.actor)

    def step(self, obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor, next_obs: torch.Tensor,
             terminated: torch.Tensor) -> dict[str, torch.Tensor]:
        """One SAC update on a minibatch of features, normalised actions, rewards and terminations."""
        config, critic, actor = self.config, self.critic, self.actor
        alpha = self.temperature.log_alpha.exp()
        with torch.no_grad():
            mean, log_std = actor(next_obs)
            noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
            next_actions, next_log_probs = squashed_sample(mean, log_std, noise)
            targets = soft_q_targets(rewards, terminated, self.target(next_obs, next_actions), next_log_probs,
                                     alpha, config.gamma)
        q = critic(obs, actions)
        q_loss = twin_q_loss(q, targets)
        self.optimizers["critic"].zero_grad(set_to_none=True)
        q_loss.backward()
        self.optimizers["critic"].step()

        mean, log_std = actor(obs)
        noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
        new_actions, log_probs = squashed_sample(mean, log_std, noise)
        actor_loss = sac_actor_loss(critic(obs, new_actions, detach_weights=True), log_probs, alpha)
        self.optimizers["actor"].zero_grad(set_to_none=True)
        actor_loss.backward()
        self.optimizers["actor"].step()

        alpha_loss = entropy_temperature_loss(self.temperature.log_alpha, log_probs, self.target_entropy)
        self.optimizers["temperature"].zero_grad(set_to_none=True)
        alpha_loss.backward()
        self.optimizers["temperature"].step()

        with torch.no_grad():
            torch._foreach_lerp_(list(self.target.parameters()), list(critic.parameters()), config.tau)
        return {"q_loss": q_loss.detach(), "actor_loss": actor_loss.detach(), "alpha": alpha.detach(),
                "entropy": -log_probs.detach().mean(), "q_mean": q.detach().mean()}

    def relabel(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, env_rewards: np.ndarray,
                terminated: np.ndarray) -> torch.Tensor:
        """Rewards of sampled transitions: the current reward model's (RewardLearner.rewards), or the env's."""
        if self.reward is None:
            return self.tensor(env_rewards)
        return self.reward.rewards(obs, actions, next_obs, terminated)

    def train(self, replay: Handle, new_env_steps: int, remaining: float = 1.0) -> dict[str, Any]:
        """Reward-model steps, then utd_ratio * new_env_steps SAC updates from one replay pull."""
        config = self.config
        self.calls += 1
        where = f"iteration {self.calls}: SAC"
        metrics: dict[str, Any] = {}
        if self.reward is not None:
            metrics.update(self.reward.train(replay, config.reward_steps, remaining))
        self.owed += config.utd_ratio * new_env_steps
        count = int(self.owed)
        self.owed -= count
        if count == 0:
            return metrics
        size = config.sac_batch_size
        big = resolve(replay.call("sample", count * size))
        rewards = self.relabel(big.obs, big.actions, big.next_obs, big.rewards, big.terminated)
        if not bool(torch.isfinite(rewards).all()):
            raise ValueError(f"{where}: the learned reward became NaN or infinite")
        obs, next_obs = self.tensor(big.obs.reshape(len(big), -1)), self.tensor(big.next_obs.reshape(len(big), -1))
        actions = self.tensor(self.bounds.from_env(big.actions))
        terminated = self.tensor(big.terminated, torch.bool)
        stats = [self.step(obs[k * size:(k + 1) * size], actions[k * size:(k + 1) * size],
                           rewards[k * size:(k + 1) * size], next_obs[k * size:(k + 1) * size],
                           terminated[k * size:(k + 1) * size]) for k in range(count)]
        self.updates += count
        metrics.update(read_metrics(stats, where))
        metrics["imitation_reward" if self.reward is not None else "env_reward"] = float(rewards.mean())
        check_finite_weights(self.actor, where)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        state = dict(super().state_dict(), generator=self.generator.get_state(), owed=self.owed, calls=self.calls)
        if self.reward is not None:
            state["reward_learner"] = self.reward.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.generator.set_state(state["generator"])
        self.owed, self.calls = state["owed"], state["calls"]
        if self.reward is not None:
            self.reward.load_state_dict(state["reward_learner"])


def sac_worker_policy(config: ImitationConfig, observation_space: gym.Space, action_space: gym.Space,
                      greedy: bool = False) -> WorkerPolicy:
    """The rollout workers' actor (RolloutWorker's policy factory): sampling, or greedy for evaluation.
    It draws its warm-up actions from the worker's seeded action space generator."""
    spec = actor_spec(config, observation_space, action_space)
    return WorkerPolicy(PolicySpec(spec.architecture, spec.observation_space, spec.action_space, spec.kwargs, greedy),
                        rng=action_space.np_random)


def check_spaces(observation_space: gym.Space, action_space: gym.Space) -> None:
    if not isinstance(action_space, gym.spaces.Box):
        raise ValueError(f"rl=sac needs a Box action space, got {action_space}; use rl=ppo for Discrete actions")
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise ValueError(f"rl=sac needs vector (1-D Box) observations, got {observation_space}")


def train_sac(config: ImitationConfig, ctx: RunContext, learned_reward: bool = True) -> TrainOutput:
    """The off-policy loop (module docstring); learned_reward=False: SAC on the env's reward."""
    env = ctx.make_env(1)
    obs_space, action_space = env.single_observation_space, env.single_action_space
    env.close()
    check_spaces(obs_space, action_space)
    placement = ctx.placement
    placement.start()
    gpus = learner_gpus(placement, config.device, 0.5)
    learner = placement.place(SACLearner, config, obs_space, action_space, ctx.seed, ctx.env_id,
                              str(ctx.demos_path) if learned_reward else None, num_cpus=0.5, num_gpus=gpus)
    replay = placement.place(ReplayBuffer, config.replay_rows, ctx.seed, num_cpus=0.1)
    factory = functools.partial(sac_worker_policy, config)
    group = RolloutGroup(placement, ctx.env_id, ctx.env_kwargs, config.num_workers, config.envs_per_worker,
                         ctx.seed, factory, num_cpus=0.5)
    eval_seed = derive_seed(ctx.seed, LEARNED_REWARD_EVAL)
    evaluator = Evaluator(placement, ctx.env_id, ctx.env_kwargs, min(config.eval_episodes, 32),
                          eval_seed, functools.partial(sac_worker_policy, config, greedy=True)) \
        if config.eval_every else None
    name = config.reward_model if learned_reward else "sac"
    progress = Progress(config.total_env_steps, f"{name} (sac)", disable=not ctx.progress)
    writer, curve, recent = ctx.writer, [], deque(maxlen=config.stop_window)
    env_steps, iteration, start, metrics = 0, 0, time.perf_counter(), {}

    def checkpoint() -> dict[str, Any]:
        state = {"generator": "sac", "reward_model": name, "env_steps": env_steps, "iteration": iteration,
                 "curve": curve, "recent": list(recent), "workers": group.state_dict(),
                 **dict(zip(("learner", "replay"), resolve([learner.call("state_dict"), replay.call("state_dict")])))}
        save_checkpoint(ctx.checkpoint_dir, state)
        return state

    sampler: AsyncSampler | None = None
    max_lag = 0
    try:
        if ctx.resume:
            state = load_checkpoint(ctx.checkpoint_dir)
            if state.get("generator") != "sac" or state.get("reward_model") != name:
                raise ValueError(f"{ctx.checkpoint_dir}: the checkpoint holds a {state.get('reward_model')!r} run "
                                 f"with {state.get('generator', 'ppo')!r}, this run is {name!r} with 'sac'")
            resolve([learner.call("load_state_dict", state["learner"]), replay.call("load_state_dict", state["replay"])])
            group.load_state_dict(state["workers"])
            env_steps, iteration = state["env_steps"], state["iteration"]
            curve = [tuple(p) for p in state["curve"]]
            recent.extend(state["recent"])
        start_steps = env_steps
        progress.update(env_steps)
        chunk = config.rollout_size
        # One chunk of sampling ahead of the learner when async; none when sync.
        ahead = chunk if config.sampling == "async" else 0
        sampler = AsyncSampler(group, replay, config.total_env_steps, config.max_policy_lag, chunk,
                               env_steps=env_steps)
        sampler.allow(env_steps + chunk + ahead)
        sampler.start(resolve(learner.call("acting_weights")) if env_steps >= config.learning_starts else None)
        while env_steps < config.total_env_steps:
            stats = sampler.wait_for(min(env_steps + chunk, config.total_env_steps))
            new_steps = stats.env_steps - env_steps
            env_steps = stats.env_steps
            max_lag = max(max_lag, stats.max_lag)
            iteration += 1
            recent.extend(stats.episode_returns)
            if env_steps >= config.learning_starts:
                # Warm-up steps owe no updates: SAC takes utd_ratio updates per env step from learning_starts on.
                owed = env_steps - max(config.learning_starts, env_steps - new_steps)
                metrics.update(resolve(learner.call("train", replay, max(owed, 1),
                                                    1.0 - env_steps / config.total_env_steps)))
                sampler.publish(resolve(learner.call("acting_weights")))
            sampler.allow(env_steps + chunk + ahead)
            if stats.episode_returns:
                writer.add_scalar(tags.EPISODIC_RETURN, float(np.mean(stats.episode_returns)), env_steps)
            if stats.lags:
                writer.add_scalar(tags.POLICY_LAG, max(stats.lags), env_steps)
            if evaluator is not None and iteration % config.eval_every == 0 and group.weights is not None:
                value = evaluator.evaluate(group.weights, config.eval_episodes, eval_seed)
                curve.append((env_steps, value))
                ctx.report(env_steps, value)
                if config.stop_eval_return is not None and value >= config.stop_eval_return:
                    break
            elif evaluator is None and stats.episode_returns:
                curve.append((env_steps, float(np.mean(stats.episode_returns))))
                ctx.report(env_steps, curve[-1][1])
            writer.add_scalar(tags.SPS, (env_steps - start_steps) / (time.perf_counter() - start), env_steps)
            for key, value in metrics.items():
                writer.add_scalar(tags.loss_tag(key), value, env_steps)
            progress.update(env_steps - progress.done, **({"return": float(np.mean(recent))} if recent else {}))
            if (config.stop_return is not None and len(recent) == recent.maxlen
                    and np.mean(recent) >= config.stop_return):
                break
            if iteration % config.checkpoint_every == 0:
                with quiet(sampler, env_steps) as env_steps:    # the saved replay and env_steps agree
                    checkpoint()
        env_steps = sampler.stop().env_steps
        sampler = None
        train_s = time.perf_counter() - start
        state = checkpoint()
        deployed = policy_from_state(actor_spec(config, obs_space, action_space),
                                     state["learner"]["modules"]["actor"], seed=ctx.seed)
        deployed.save(ctx.checkpoint_dir)
        if learned_reward:
            reward_modules = state["learner"]["reward_learner"]["modules"]
            atomic_write(ctx.checkpoint_dir / REWARD_FILE, lambda tmp: torch.save(reward_modules, tmp))
    finally:
        if sampler is not None:
            sampler.close()
        progress.close()
        group.close()
        if evaluator is not None:
            evaluator.close()
        kill_all([learner, replay])
    summary = {"iterations": iteration, "train_loop_s": train_s, "generator": "sac", "max_policy_lag": max_lag,
               "recent_train_return": float(np.mean(recent)) if recent else float("nan"),
               "stopped_early": env_steps < config.total_env_steps,
               "env_steps_per_s": (env_steps - start_steps) / train_s,
               **{f"final_{k}": v for k, v in metrics.items()}}
    return TrainOutput(policy=deployed, env_steps=env_steps, curve=curve, metrics=summary)
