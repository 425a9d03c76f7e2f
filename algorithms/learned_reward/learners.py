"""The two learners of the learned-reward loop, plain classes that `Placement` puts here or on Ray.

- `RewardLearner`: a RewardModel, expert minibatches from Parquet (lfo_ray.demos.DemoSampler) and
  agent minibatches from the shared replay; scores rollouts with the current reward.
- `PolicyLearner`: PPO on an ActorCritic from time-major segments and their learned rewards, with
  reward normalisation; publishes numpy acting weights.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical

from lfo_ray.algorithms.learned_reward.config import LearnedRewardConfig
from lfo_ray.algorithms.learned_reward.losses import (
    discounted_returns,
    generalized_advantages,
    ppo_loss,
    ranking_accuracy,
)
from lfo_ray.algorithms.learned_reward.networks import ActorCritic
from lfo_ray.algorithms.learned_reward.ranking import action_successors, true_candidate
from lfo_ray.algorithms.learned_reward.rewards import RewardModel, TransitionTensors, make_reward_model
from lfo_ray.algorithms.learned_reward.segments import Segment
from lfo_ray.data import Transitions
from lfo_ray.demos import DemoSampler
from lfo_ray.learner import TorchLearner
from lfo_ray.placement import Handle, resolve

EXPERT_POOL_ROWS = 50_000
RETURN_VAR_DECAY = 0.9
"""Per-iteration decay of the return variance behind "scale" reward normalisation. A learned reward
drifts (an early, over-confident discriminator can pay 100x its later rewards), so the statistics
must forget: a running average over all history would shrink later rewards to noise."""


def split_episodes(data: Transitions, fraction: float, seed: int) -> tuple[Transitions, Transitions | None]:
    """(training rows, held-out rows): a random `fraction` of the episodes (at least one) held out."""
    episodes = np.unique(data.episode_ids)
    if fraction <= 0 or len(episodes) < 2:
        return data, None
    rng = np.random.default_rng(seed)
    held = rng.choice(episodes, size=max(1, int(round(fraction * len(episodes)))), replace=False)
    mask = np.isin(data.episode_ids, held)

    def rows(m: np.ndarray) -> Transitions:
        return Transitions(obs=data.obs[m], next_obs=data.next_obs[m],
                           actions=None if data.actions is None else data.actions[m],
                           dones=data.dones[m], episode_ids=data.episode_ids[m])

    return rows(~mask), rows(mask)


class _CopyingLearner(TorchLearner):
    def tensor(self, array: np.ndarray, dtype: torch.dtype | None = torch.float32) -> torch.Tensor:
        """A tensor owning its memory: arrays that came through Ray's object store are read-only."""
        return torch.tensor(np.asarray(array), dtype=dtype, device=self.device)


class RewardLearner(_CopyingLearner):
    """Trains one RewardModel; `score` labels rollouts, `train` takes steps on expert + replay data."""

    def __init__(self, config: LearnedRewardConfig, env_id: str, obs_dim: int, num_actions: int,
                 demos_path: str | os.PathLike, seed: int) -> None:
        super().__init__(config.device)
        torch.set_num_threads(1)
        self.config, self.env_id = config, env_id
        self.sampler = DemoSampler(demos_path, seed=seed, with_actions=config.uses_actions)
        self.holdout: Transitions | None = None
        if not self.sampler.streaming:
            self.sampler.buffer, self.holdout = split_episodes(self.sampler.buffer, config.holdout_fraction, seed)
        pool = self.sampler.buffer
        rows = slice(0, min(len(pool), EXPERT_POOL_ROWS))
        self.model: RewardModel = make_reward_model(config, obs_dim, num_actions, TransitionTensors(
            self.tensor(pool.obs[rows]), self.tensor(pool.next_obs[rows])), seed)
        self.modules = {"reward": self.model.module}
        self.optimizers = {"reward": self.model.optimizer}

    def expert_batch(self, size: int) -> TransitionTensors:
        batch = self.sampler.sample(size)
        return TransitionTensors(self.tensor(batch.obs), self.tensor(batch.next_obs),
                                 None if batch.actions is None else self.tensor(batch.actions, torch.long))

    def pretrain(self, steps: int) -> dict[str, float]:
        """Steps on expert data alone (IMRL, PMI-IL); a no-op for the discriminators."""
        if not self.model.pretrains:
            return {}
        metrics = [self.model.pretrain_step(self.expert_batch(self.config.reward_batch_size)) for _ in range(steps)]
        self.updates += steps
        return _mean(metrics)

    def train(self, replay: Handle, steps: int) -> dict[str, float]:
        """`steps` reward-model steps; agent minibatches come from one replay pull."""
        if steps == 0:
            return {}
        size = self.config.reward_batch_size
        agent = resolve(replay.call("sample", steps * size)) if self.model.learns_from_agent else None
        metrics = []
        for k in range(steps):
            agent_batch = None
            if agent is not None:
                rows = slice(k * size, (k + 1) * size)
                agent_batch = TransitionTensors(self.tensor(agent.obs[rows]), self.tensor(agent.next_obs[rows]),
                                                self.tensor(agent.actions[rows], torch.long))
            metrics.append(self.model.update(self.expert_batch(size), agent_batch))
        self.updates += steps
        return _mean(metrics)

    def state_dict(self) -> dict[str, Any]:
        return dict(super().state_dict(), generator=self.model.generator.get_state(),
                    sampler_rng=self.sampler.rng.bit_generator.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.model.generator.set_state(state["generator"])
        self.sampler.rng.bit_generator.state = state["sampler_rng"]

    @torch.no_grad()
    def score(self, *segments: Segment) -> list[np.ndarray]:
        """(T, B) float32 learned rewards (+ reward_offset) of each segment; 0 on autoreset rows."""
        out = []
        for segment in segments:
            shape = segment.valid.shape
            obs = self.tensor(segment.obs.reshape(-1, segment.obs.shape[-1]))
            next_obs = self.tensor(segment.next_obs.reshape(-1, segment.obs.shape[-1]))
            actions = self.tensor(segment.actions.reshape(-1), torch.long)
            reward = self.model.reward(obs, actions, next_obs).cpu().numpy().reshape(shape)
            out.append(np.where(segment.valid, reward + self.config.reward_offset, 0.0).astype(np.float32))
        return out

    @torch.no_grad()
    def ranking_metric(self) -> float | None:
        """Eq. 20 on the held-out expert episodes: how often f(s_t, .) ranks the true s_{t+1} first among
        the states reachable from s_t by each action. None when the model does not score (s, s')."""
        if self.holdout is None or self.model.score(self.tensor(self.holdout.obs[:1]),
                                                    self.tensor(self.holdout.next_obs[:1])) is None:
            return None
        candidates = action_successors(self.env_id, self.holdout.obs)          # (B, A, D)
        truth = true_candidate(candidates, self.holdout.next_obs)
        b, a, d = candidates.shape
        obs = self.tensor(np.repeat(self.holdout.obs, a, axis=0))
        scores = self.model.score(obs, self.tensor(candidates.reshape(b * a, d))).reshape(b, a)
        # eq. 20 averages per trajectory, then over trajectories
        ids = self.holdout.episode_ids
        per_episode = [ranking_accuracy(scores[torch.as_tensor(ids == e)], torch.as_tensor(truth[ids == e]))
                       for e in np.unique(ids)]
        return float(torch.stack(per_episode).mean())


def _mean(metrics: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([m[name] for m in metrics])) for name in metrics[0]} if metrics else {}


class PolicyLearner(_CopyingLearner):
    """PPO with the learned reward: GAE over (T, B), clipped surrogate, entropy bonus, value loss."""

    def __init__(self, config: LearnedRewardConfig, obs_dim: int, num_actions: int, seed: int) -> None:
        super().__init__(config.device)
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.net = ActorCritic(obs_dim, num_actions, config.policy_hidden).to(self.device)
        self.modules = {"actor_critic": self.net}
        optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr, eps=1e-5, foreach=True)
        self.optimizers = {"actor_critic": optimizer}
        self.return_var: float | None = None
        self.running_return: torch.Tensor | None = None
        self.env_steps = 0

    def acting_weights(self) -> dict[str, np.ndarray]:
        return self.net.acting_weights()

    def normalize_rewards(self, rewards: torch.Tensor, ended: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        kind = self.config.reward_norm
        if kind == "none":
            return rewards
        if kind == "standardize":
            picked = rewards[valid]
            return torch.where(valid, (rewards - picked.mean()) / (picked.std() + 1e-8), rewards)
        if self.running_return is None or self.running_return.shape != rewards.shape[1:]:
            self.running_return = torch.zeros(rewards.shape[1], device=self.device)
        returns = discounted_returns(rewards, ended, self.config.gamma, self.running_return)
        self.running_return = returns[-1] * (~ended[-1])
        batch_var = float(returns[valid].var()) if int(valid.sum()) > 1 else 1.0
        self.return_var = batch_var if self.return_var is None else (
            RETURN_VAR_DECAY * self.return_var + (1 - RETURN_VAR_DECAY) * batch_var)
        return rewards / np.sqrt(self.return_var + 1e-8)

    def update(self, rewards: list[np.ndarray], *segments: Segment) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """One PPO iteration on the segments (side by side) and their learned rewards; returns the new acting
        weights and the metrics (with the true returns of the episodes that ended, for reporting)."""
        config, net = self.config, self.net
        seg = Segment.concat_envs(list(segments))
        steps, envs = seg.valid.shape
        obs, next_obs = self.tensor(seg.obs), self.tensor(seg.next_obs)
        actions = self.tensor(seg.actions, torch.long)
        valid = self.tensor(seg.valid, torch.bool)
        terminated = self.tensor(seg.terminated, torch.bool)
        ended = self.tensor(seg.terminated | seg.truncated, torch.bool)
        reward = self.normalize_rewards(self.tensor(np.concatenate(rewards, axis=1)), ended, valid)
        with torch.no_grad():
            logits, values = net(obs)
            old_log_probs = Categorical(logits=logits).log_prob(actions)
            _, next_values = net(next_obs)
            advantages, targets = generalized_advantages(reward, values, next_values, terminated, ended,
                                                         config.gamma, config.gae_lambda)
        flat = valid.reshape(-1)
        obs_f, actions_f = obs.reshape(steps * envs, -1)[flat], actions.reshape(-1)[flat]
        old_f, adv_f = old_log_probs.reshape(-1)[flat], advantages.reshape(-1)[flat]
        targets_f = targets.reshape(-1)[flat]

        self.env_steps += len(obs_f)
        optimizer = self.optimizers["actor_critic"]
        if config.anneal_lr:
            optimizer.param_groups[0]["lr"] = config.lr * max(0.0, 1.0 - self.env_steps / config.total_env_steps)
        n, size = len(obs_f), config.minibatch_size
        stats: list[dict[str, float]] = []
        stopped_at = config.update_epochs
        for epoch in range(config.update_epochs):
            order = torch.as_tensor(self.rng.permutation(n), device=self.device)
            for begin in range(0, n, size):
                index = order[begin:begin + size]
                if len(index) < 2:
                    continue
                logits, new_values = net(obs_f[index])
                dist = Categorical(logits=logits)
                loss, step_stats = ppo_loss(dist.log_prob(actions_f[index]), old_f[index], adv_f[index], new_values,
                                            targets_f[index], dist.entropy(), config.clip_coef, config.vf_coef,
                                            config.ent_coef)
                if config.target_kl is not None and step_stats["approx_kl"] > 1.5 * config.target_kl:
                    stopped_at = epoch
                    break
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.max_grad_norm, foreach=True)
                optimizer.step()
                stats.append(step_stats)
            if stopped_at < config.update_epochs:
                break
        self.updates += len(stats)
        net.normalizer.update(obs_f)
        metrics: dict[str, Any] = _mean(stats)
        metrics["ppo_epochs"] = stopped_at
        metrics["imitation_reward"] = float(reward[valid].mean())
        metrics["episode_returns"] = list(seg.episode_returns)
        metrics["env_steps"] = len(obs_f)
        return self.acting_weights(), metrics

    def state_dict(self) -> dict[str, Any]:
        running = None if self.running_return is None else self.running_return.cpu()
        return dict(super().state_dict(), return_var=self.return_var, running_return=running,
                    env_steps=self.env_steps, rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.return_var, self.env_steps = state["return_var"], state["env_steps"]
        self.running_return = None if state["running_return"] is None else state["running_return"].to(self.device)
        self.rng.bit_generator.state = state["rng"]
