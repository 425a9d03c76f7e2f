"""The two learners of the learned-reward loop, plain classes that `Placement` puts here or on Ray.

- `RewardLearner`: a RewardModel, expert minibatches from Parquet (lfo_ray.demos.DemoSampler) and
  agent minibatches from the shared replay; scores rollouts with the current reward.
- `PolicyLearner`: PPO on an ActorCritic from time-major segments and their learned rewards, with
  reward normalisation; publishes numpy acting weights.

Metrics stay tensors inside an update and are read once at its end: one device sync per call, not
one per minibatch. The same read checks that every loss and weight is finite, so a diverging run
stops with the iteration and the quantity named instead of training on NaN.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.learned_reward import absorbing
from lfo_ray.algorithms.learned_reward.config import ImitationConfig
from lfo_ray.algorithms.learned_reward.losses import (
    discounted_returns,
    generalized_advantages,
    normalize_advantages,
    ppo_loss,
    ranking_accuracy,
)
from lfo_ray.algorithms.learned_reward.networks import ActorCritic
from lfo_ray.algorithms.learned_reward.ranking import action_successors, has_successor_model, true_candidate
from lfo_ray.algorithms.learned_reward.rewards import RewardModel, TransitionTensors, make_reward_model
from lfo_ray.data import Transitions
from lfo_ray.demos import DemoSampler
from lfo_ray.distributions import ActionBounds
from lfo_ray.learner import TorchLearner
from lfo_ray.nets import adam, clip_grad_norm, obs_dtype
from lfo_ray.placement import Handle, resolve
from lfo_ray.segments import Segment

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


def normalize_rewards(kind: str, rewards: torch.Tensor, ended: torch.Tensor, valid: torch.Tensor, gamma: float,
                      running_return: torch.Tensor, return_var: float | None
                      ) -> tuple[torch.Tensor, torch.Tensor, float | None]:
    """Learned rewards (T, B) normalised as config.reward_norm says ("scale", "standardize", "none").

    "scale" divides by the std of the discounted imitation return, running from `running_return` (B,)
    and reset after `ended`, its variance decayed by RETURN_VAR_DECAY per call from `return_var` (None:
    the first call). Returns the rewards and the new (running_return, return_var)."""
    if kind == "none":
        return rewards, running_return, return_var
    if kind == "standardize":
        picked = rewards[valid]
        return torch.where(valid, (rewards - picked.mean()) / (picked.std() + 1e-8), rewards), running_return, return_var
    returns = discounted_returns(rewards, ended, gamma, running_return)
    batch_var = float(returns[valid].var()) if int(valid.sum()) > 1 else 1.0
    return_var = batch_var if return_var is None else RETURN_VAR_DECAY * return_var + (1 - RETURN_VAR_DECAY) * batch_var
    return rewards / np.sqrt(return_var + 1e-8), returns[-1] * (~ended[-1]), return_var


class NonFiniteError(ValueError):
    """A loss, reward or weight became NaN or infinite."""


def read_metrics(metrics: list[dict[str, torch.Tensor]], where: str) -> dict[str, float]:
    """Means of per-step tensor metrics with one device sync; refuses non-finite values, naming them."""
    if not metrics:
        return {}
    names = list(metrics[0])
    values = torch.stack([torch.stack([m[name].float() for m in metrics]) for name in names]).cpu()
    finite = torch.isfinite(values).all(dim=1)
    if not bool(finite.all()):
        bad = [name for name, ok in zip(names, finite.tolist()) if not ok]
        raise NonFiniteError(f"{where}: {', '.join(bad)} became NaN or infinite "
                             f"(lower the learning rates, or raise max_grad_norm's clipping)")
    return dict(zip(names, values.mean(dim=1).tolist()))


def check_finite_weights(module: torch.nn.Module, where: str) -> None:
    bad = [name for name, p in module.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise NonFiniteError(f"{where}: weights {', '.join(bad)} became NaN or infinite")


class RewardLearner(TorchLearner):
    """Trains one RewardModel; `score` labels rollouts, `train` takes steps on expert + replay data."""

    def __init__(self, config: ImitationConfig, env_id: str, observation_space: gym.Space, action_space: gym.Space,
                 demos_path: str | os.PathLike, seed: int) -> None:
        super().__init__(config.device)
        torch.set_num_threads(1)
        self.config, self.env_id = config, env_id
        self.obs_dtype = obs_dtype(observation_space)
        self.absorbing = bool(getattr(config, "absorbing", False))
        model_space = observation_space
        if self.absorbing:
            if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
                raise ValueError(f"absorbing=true needs vector (1-D Box) observations (its absorbing state is a "
                                 f"flag column), got {observation_space}")
            model_space = gym.spaces.Box(np.append(observation_space.low, 0.0).astype(np.float32),
                                         np.append(observation_space.high, 1.0).astype(np.float32))
        self.bounds = None if isinstance(action_space, gym.spaces.Discrete) else ActionBounds.of(action_space)
        self.iterations = 0
        self.sampler = DemoSampler(demos_path, seed=seed, with_actions=config.uses_actions)
        self.holdout: Transitions | None = None
        if not self.sampler.streaming:
            self.sampler.buffer, self.holdout = split_episodes(self.sampler.buffer, config.holdout_fraction, seed)
        pool = self.sampler.buffer
        rows = slice(0, min(len(pool), EXPERT_POOL_ROWS))
        fit = self.transitions(pool.obs[rows], pool.next_obs[rows], None, pool.dones[rows])
        self.model: RewardModel = make_reward_model(config, model_space, action_space,
                                                    TransitionTensors(fit.obs, fit.next_obs), seed)
        self.base_lr = self.model.optimizer.param_groups[0]["lr"]
        self.modules = {"reward": self.model.module}
        self.optimizers = {"reward": self.model.optimizer}

    def transitions(self, obs: np.ndarray, next_obs: np.ndarray, actions: np.ndarray | None,
                    terminated: np.ndarray | None = None) -> TransitionTensors:
        """Model inputs of a batch. With absorbing states: flagged states, and given `terminated`, the
        absorbing rows of the terminated transitions after the batch (what the discriminator learns on)."""
        if actions is not None:
            actions = self.tensor(actions, torch.long) if self.bounds is None else self.tensor(
                self.bounds.from_env(actions))
        obs_t, next_t = self.tensor(obs, self.obs_dtype), self.tensor(next_obs, self.obs_dtype)
        if self.absorbing:
            ended = None if terminated is None else self.tensor(terminated, torch.bool)
            obs_t, next_t, actions = absorbing.expand(obs_t, next_t, ended, actions)
        return TransitionTensors(obs_t, next_t, actions)

    @torch.no_grad()
    def rewards(self, obs: np.ndarray, actions: np.ndarray | None, next_obs: np.ndarray,
                terminated: np.ndarray) -> torch.Tensor:
        """Learned rewards (N,) of transitions, + reward_offset; with absorbing states a terminated
        transition's also holds gamma times the absorbed return of its terminal state."""
        t = self.transitions(obs, next_obs, actions)
        offset = self.config.reward_offset
        reward = self.model.reward(t.obs, t.actions, t.next_obs).float() + offset
        if self.absorbing:
            ended = self.tensor(terminated, torch.bool)
            ends = t.next_obs[ended]
            sink = absorbing.absorbing_state(ends.shape[1] - 1, ends, len(ends))
            enter = self.model.reward(ends, absorbing.no_action(t.actions, len(ends)), sink).float() + offset
            stay = self.model.reward(sink[:1], absorbing.no_action(t.actions, 1), sink[:1]).float() + offset
            gamma = self.config.gamma
            reward[ended] += gamma * absorbing.absorbed_return(enter, stay, gamma)
        return reward

    def expert_batch(self, size: int) -> TransitionTensors:
        batch = self.sampler.sample(size)
        return self.transitions(batch.obs, batch.next_obs, batch.actions, batch.dones)

    def pretrain(self, steps: int) -> dict[str, float]:
        """Steps on expert data alone (IMRL, PMI-IL); a no-op for the discriminators."""
        if not self.model.pretrains or steps == 0:
            return {}
        metrics = [self.model.pretrain_step(self.expert_batch(self.config.reward_batch_size)) for _ in range(steps)]
        self.updates += steps
        return read_metrics(metrics, "reward pretraining")

    def train(self, replay: Handle, steps: int, remaining: float = 1.0) -> dict[str, float]:
        """`steps` reward-model steps; agent minibatches come from one replay pull. `remaining`: the
        fraction of the env-step budget still to go, which scales the learning rate when annealing."""
        self.iterations += 1
        if self.config.anneal_reward_lr:
            for group in self.model.optimizer.param_groups:
                group["lr"] = self.base_lr * max(0.0, remaining)
        if steps == 0:
            return {}
        size = self.config.reward_batch_size
        agent = resolve(replay.call("sample", steps * size)) if self.model.learns_from_agent else None
        metrics = []
        for k in range(steps):
            agent_batch = None
            if agent is not None:
                rows = slice(k * size, (k + 1) * size)
                agent_batch = self.transitions(agent.obs[rows], agent.next_obs[rows], agent.actions[rows],
                                               agent.terminated[rows])
            metrics.append(self.model.update(self.expert_batch(size), agent_batch))
        self.updates += steps
        return read_metrics(metrics, f"iteration {self.iterations}: reward model")

    def state_dict(self) -> dict[str, Any]:
        return dict(super().state_dict(), generator=self.model.generator.get_state(),
                    sampler=self.sampler.state_dict(), iterations=self.iterations)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.iterations = state["iterations"]
        self.model.generator.set_state(state["generator"])
        self.sampler.load_state_dict(state["sampler"])

    @torch.no_grad()
    def score(self, *segments: Segment) -> list[np.ndarray]:
        """(T, B) float32 learned rewards (+ reward_offset) of each segment; 0 on autoreset rows."""
        out = []
        for segment in segments:
            shape = segment.valid.shape
            reward = self.rewards(segment.obs.reshape(-1, *segment.obs.shape[2:]),
                                  segment.actions.reshape(-1, *segment.actions.shape[2:]),
                                  segment.next_obs.reshape(-1, *segment.obs.shape[2:]),
                                  segment.terminated.reshape(-1)).cpu().numpy().reshape(shape)
            reward = np.where(segment.valid, reward, 0.0).astype(np.float32)
            if not np.isfinite(reward).all():
                raise NonFiniteError(f"iteration {self.iterations + 1}: the learned reward became NaN or infinite")
            out.append(reward)
        return out

    @torch.no_grad()
    def ranking_metric(self) -> float | None:
        """Eq. 20 on the held-out expert episodes: how often f(s_t, .) ranks the true s_{t+1} first among
        the states reachable from s_t by each action. None when the model does not score (s, s')."""
        if self.holdout is None or not has_successor_model(self.env_id):
            return None
        probe = self.transitions(self.holdout.obs[:1], self.holdout.next_obs[:1], None)
        if self.model.score(probe.obs, probe.next_obs) is None:
            return None
        candidates = action_successors(self.env_id, self.holdout.obs)          # (B, A, D)
        truth = true_candidate(candidates, self.holdout.next_obs)
        b, a, d = candidates.shape
        pairs = self.transitions(np.repeat(self.holdout.obs, a, axis=0), candidates.reshape(b * a, d), None)
        scores = self.model.score(pairs.obs, pairs.next_obs).reshape(b, a)
        # eq. 20 averages per trajectory, then over trajectories
        ids = self.holdout.episode_ids
        per_episode = [ranking_accuracy(scores[torch.as_tensor(ids == e)], torch.as_tensor(truth[ids == e]))
                       for e in np.unique(ids)]
        return float(torch.stack(per_episode).mean())


class PolicyLearner(TorchLearner):
    """PPO with the learned reward: GAE over (T, B), clipped surrogate, entropy bonus, value loss."""

    def __init__(self, config: ImitationConfig, observation_space: gym.Space, action_space: gym.Space,
                 seed: int) -> None:
        super().__init__(config.device)
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        self.config = config
        self.obs_dtype = obs_dtype(observation_space)
        self.rng = np.random.default_rng(seed)
        self.net = ActorCritic(observation_space, action_space, config.policy_hidden).to(self.device)
        self.modules = {"actor_critic": self.net}
        self.lrs = (config.lr, config.value_lr or config.lr)
        policy_params = [*self.net.pi.parameters(), *([] if self.net.discrete else [self.net.log_std])]
        optimizer = adam([{"params": policy_params, "lr": self.lrs[0]},
                          {"params": self.net.v.parameters(), "lr": self.lrs[1]}], self.lrs[0], eps=1e-5)
        self.optimizers = {"actor_critic": optimizer}
        self.return_var: float | None = None
        self.running_return: torch.Tensor | None = None
        self.env_steps = 0
        self.iterations = 0

    def acting_weights(self) -> dict[str, np.ndarray]:
        return self.net.acting_weights()

    def normalize_rewards(self, rewards: torch.Tensor, ended: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        if self.running_return is None or self.running_return.shape != rewards.shape[1:]:
            self.running_return = torch.zeros(rewards.shape[1], device=self.device)
        out, self.running_return, self.return_var = normalize_rewards(
            self.config.reward_norm, rewards, ended, valid, self.config.gamma, self.running_return, self.return_var)
        return out

    def minibatches(self, n: int) -> list[torch.Tensor]:
        """One epoch's row indices: ceil(n / minibatch_size) minibatches of exactly minibatch_size rows
        over a fresh shuffle, the last one topped up from the start of the shuffle (so every row takes
        part each epoch and no row twice in one minibatch), or all n rows when n is smaller; none when
        n < 2, whose advantage statistics mean nothing."""
        size = self.config.minibatch_size
        if n < 2:
            return []
        order = torch.as_tensor(self.rng.permutation(n), device=self.device)
        if n <= size:
            return [order]
        count = -(-n // size)
        return list(torch.cat([order, order[: count * size - n]]).reshape(count, size))

    def update(self, rewards: list[np.ndarray], *segments: Segment) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """One PPO iteration on the segments (side by side) and their learned rewards; returns the new acting
        weights and the metrics (with the true returns of the episodes that ended, for reporting)."""
        config, net = self.config, self.net
        self.iterations += 1
        where = f"iteration {self.iterations}: PPO"
        seg = Segment.concat_envs(list(segments))
        steps, envs = seg.valid.shape
        obs, next_obs = self.tensor(seg.obs, self.obs_dtype), self.tensor(seg.next_obs, self.obs_dtype)
        actions = self.tensor(seg.actions, torch.long) if net.discrete else self.tensor(
            net.bounds.from_env(seg.actions))
        valid = self.tensor(seg.valid, torch.bool)
        terminated = self.tensor(seg.terminated, torch.bool)
        ended = self.tensor(seg.terminated | seg.truncated, torch.bool)
        raw_reward = np.concatenate(rewards, axis=1)
        if not np.isfinite(raw_reward).all():
            raise NonFiniteError(f"{where}: the learned reward it was given is NaN or infinite")
        reward = self.normalize_rewards(self.tensor(raw_reward), ended, valid)
        flat_obs, flat_next = obs.flatten(0, 1), next_obs.flatten(0, 1)
        features = net.features(flat_obs)        # once per update: the statistics stay fixed during it
        with torch.no_grad():
            out, values = net.from_features(features)
            old_log_probs = net.log_prob_entropy(out, actions.flatten(0, 1))[0].reshape(steps, envs)
            next_values = net(flat_next)[1].reshape(steps, envs)
            advantages, targets = generalized_advantages(reward, values.reshape(steps, envs), next_values,
                                                         terminated, ended, config.gamma, config.gae_lambda)
        flat = valid.reshape(-1)
        obs_f, features_f, actions_f = flat_obs[flat], features[flat], actions.flatten(0, 1)[flat]
        old_f, targets_f = old_log_probs.reshape(-1)[flat], targets.reshape(-1)[flat]
        adv_f = normalize_advantages(advantages.reshape(-1)[flat])

        self.env_steps += len(obs_f)
        optimizer = self.optimizers["actor_critic"]
        if config.anneal_lr:
            fraction = max(0.0, 1.0 - self.env_steps / config.total_env_steps)
            for group, lr in zip(optimizer.param_groups, self.lrs):
                group["lr"] = lr * fraction
        stats: list[dict[str, torch.Tensor]] = []
        stopped_at = config.update_epochs
        params = list(net.parameters())
        for epoch in range(config.update_epochs):
            for index in self.minibatches(len(obs_f)):
                out, new_values = net.from_features(features_f[index])
                log_probs, entropy = net.log_prob_entropy(out, actions_f[index])
                loss, step_stats = ppo_loss(log_probs, old_f[index], adv_f[index], new_values, targets_f[index],
                                            entropy, config.clip_coef, config.vf_coef, config.ent_coef)
                if config.target_kl is not None and float(step_stats["approx_kl"]) > 1.5 * config.target_kl:
                    stopped_at = epoch
                    break
                for param in params:            # optimizer.zero_grad()'s effect, without its hooks
                    param.grad = None
                loss.backward()
                clip_grad_norm([param.grad for param in params], config.max_grad_norm)
                optimizer.step()
                stats.append(step_stats)
            if stopped_at < config.update_epochs:
                break
        self.updates += len(stats)
        metrics: dict[str, Any] = read_metrics(stats, where)
        check_finite_weights(net, where)
        net.features.update(obs_f)
        metrics["ppo_epochs"] = stopped_at
        metrics["imitation_reward"] = float(reward[valid].mean()) if len(obs_f) else 0.0
        metrics["episode_returns"] = list(seg.episode_returns)
        metrics["env_steps"] = len(obs_f)
        return self.acting_weights(), metrics

    def state_dict(self) -> dict[str, Any]:
        running = None if self.running_return is None else self.running_return.cpu()
        return dict(super().state_dict(), return_var=self.return_var, running_return=running,
                    env_steps=self.env_steps, iterations=self.iterations, rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.return_var, self.env_steps, self.iterations = state["return_var"], state["env_steps"], state["iterations"]
        self.running_return = None if state["running_return"] is None else state["running_return"].to(self.device)
        self.rng.bit_generator.state = state["rng"]
