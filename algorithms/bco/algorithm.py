"""Behavioral Cloning from Observation (Torabi et al. 2018), and its iterative variant BCO(alpha).

    schedule = interaction_schedule(budget, alpha, iterations)   # pre-demo steps, then per iteration
    for phase, steps in enumerate(schedule):
        interact `steps` times (phase 0: uniform random actions; then: sample the cloned policy)
        fit the inverse dynamics model p(a | s, s') on every agent transition so far
        label each expert pair (s, s') with argmax_a p(a | s, s')
        behavioural cloning of pi(a | s) on the labelled expert states
        publish pi to the rollout workers, evaluate it greedily, checkpoint

Discrete actions: p and pi are categorical. Box actions: both are Gaussians over actions
normalised to [-1, 1] (the agent's actions clipped to the bounds, as the env applied them),
fitted by maximum likelihood; an expert pair's label is the inverse model's mean, the greedy
policy acts with its mean, the collecting policy samples. Only the action head and the losses
differ (losses.HEADS).

Placement: one learner (inverse model, policy, the expert pairs; a GPU when the cluster has
one), one replay holding every agent transition (capacity = budget; `replay_shards` actors), and
rollout workers with one env each, so the budget is met exactly. With sampling="async" the
workers run one phase ahead: they sample phase k+1 with the current policy while the learner fits
on phase k (lfo_ray.sampling.AsyncSampler; lag <= max_policy_lag, recorded as charts/policy_lag).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lfo_ray import metrics as tags
from lfo_ray.algorithms.bco.config import BCOConfig, interaction_schedule
from lfo_ray.algorithms.bco.losses import HEADS
from lfo_ray.algorithms.bco.networks import InverseDynamicsNet, PolicyNet, acting_policy, head_kind, policy_spec
from lfo_ray.batch import SampleBatch
from lfo_ray.checkpoint import load_checkpoint, save_checkpoint
from lfo_ray.distributions import ActionBounds
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput
from lfo_ray.learner import TorchLearner
from lfo_ray.metrics import Progress
from lfo_ray.placement import Handle, kill_all, learner_gpus, resolve
from lfo_ray.nets import obs_dtype
from lfo_ray.policy import policy_from_state, read_policy
from lfo_ray.replay import make_replay
from lfo_ray.runner import Evaluator, RolloutGroup
from lfo_ray.sampling import AsyncSampler, quiet
from lfo_ray.seeding import BC_EVAL, derive_seed

LABEL_CHUNK = 4096


class BCOLearner(TorchLearner):
    """The inverse model, the policy, their optimisers, and the expert pairs they are fitted to."""

    def __init__(self, config: BCOConfig, observation_space: gym.Space, action_space: gym.Space,
                 expert_obs: np.ndarray, expert_next_obs: np.ndarray, seed: int) -> None:
        super().__init__(config.device)
        torch.manual_seed(seed)
        self.config = config
        self.obs_dtype = obs_dtype(observation_space)
        self.action_space = action_space
        self.losses = HEADS[head_kind(action_space)]
        self.bounds = None if isinstance(action_space, gym.spaces.Discrete) else ActionBounds.of(action_space)
        self.rng = np.random.default_rng(seed)
        inverse = InverseDynamicsNet(observation_space, action_space, config.inverse_hidden, config.conv_channels)
        self.observation_space = observation_space
        self.modules = {"inverse": inverse.to(self.device)}
        self.optimizers = {"inverse": torch.optim.Adam(inverse.parameters(), lr=config.inverse_lr)}
        self.expert_obs = self.tensor(expert_obs, self.obs_dtype)
        self.expert_next_obs = self.tensor(expert_next_obs, self.obs_dtype)
        self.expert_labels: torch.Tensor | None = None
        self.new_policy()

    def new_policy(self) -> None:
        """A freshly initialised policy and optimiser, standardising on the expert's states (the only
        states it is fitted on). The initialisation is drawn from `self.rng`, which checkpoints
        carry (torch's global generator is not), so a resumed run initialises as the original."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.rng.integers(2**63)))
            policy = PolicyNet(self.observation_space, self.action_space, self.config.policy_hidden,
                               self.config.conv_channels).to(self.device)
        policy.encoder.fit(self.expert_obs)
        self.modules["policy"] = policy
        self.optimizers["policy"] = torch.optim.Adam(policy.parameters(), lr=self.config.policy_lr)

    def action_tensor(self, actions: np.ndarray) -> torch.Tensor:
        """The agent's actions as the inverse model's targets: class ids, or normalised Box actions
        clipped to [-1, 1] (the env clipped them: the dynamics saw the clipped action)."""
        if self.bounds is None:
            return self.tensor(np.asarray(actions) - self.action_space.start, torch.long)
        normalised = self.bounds.from_env(np.asarray(actions).reshape(len(actions), self.bounds.dim))
        return self.tensor(np.clip(normalised, -1.0, 1.0), torch.float32)

    def inverse_step(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> dict[str, float]:
        loss, metrics = self.losses.inverse(self.modules["inverse"](obs, next_obs), actions)
        self.optimizers["inverse"].zero_grad()
        loss.backward()
        self.optimizers["inverse"].step()
        self.updates += 1
        return metrics

    def update(self, batch: SampleBatch) -> dict[str, float]:
        """One inverse-dynamics step on agent transitions (s, a, s')."""
        return self.inverse_step(self.tensor(batch.obs, self.obs_dtype), self.action_tensor(batch.actions),
                                 self.tensor(batch.next_obs, self.obs_dtype))

    def fit_inverse(self, replay: Handle, num_updates: int, batch_size: int) -> dict[str, float]:
        """Refits the input statistics, then `num_updates` steps on minibatches of one replay pull."""
        data = resolve(replay.call("sample", num_updates * batch_size))
        obs, next_obs = self.tensor(data.obs, self.obs_dtype), self.tensor(data.next_obs, self.obs_dtype)
        actions = self.action_tensor(data.actions)
        self.modules["inverse"].encoder.fit(obs, next_obs)
        steps = [self.inverse_step(obs[rows], actions[rows], next_obs[rows])
                 for rows in (slice(k * batch_size, (k + 1) * batch_size) for k in range(num_updates))]
        return {name: float(np.mean([s[name] for s in steps])) for name in steps[0]}

    @torch.no_grad()
    def label_demos(self) -> dict[str, list[float]]:
        """Infers the expert's action for every demonstrated pair; returns what was inferred: the
        fraction of each Discrete action, or each normalised Box dimension's mean and std."""
        inverse = self.modules["inverse"]
        labels = [self.losses.infer(inverse(self.expert_obs[i:i + LABEL_CHUNK],
                                            self.expert_next_obs[i:i + LABEL_CHUNK]))
                  for i in range(0, len(self.expert_obs), LABEL_CHUNK)]
        self.expert_labels = torch.cat(labels)
        if self.bounds is not None:
            return {"label_mean": self.expert_labels.mean(0).tolist(),
                    "label_std": self.expert_labels.std(0, unbiased=False).tolist()}
        counts = torch.bincount(self.expert_labels, minlength=int(self.action_space.n))
        return {"label_fractions": (counts / max(len(self.expert_labels), 1)).tolist()}

    def fit_policy(self, num_updates: int, batch_size: int) -> dict[str, float]:
        """`num_updates` behavioural-cloning steps of a fresh policy on expert states and their
        inferred actions. Not warm-started: a policy cloned for (iterations+1) x num_updates steps
        on expert states in a tiny region (InvertedPendulum's) shrinks its log-std to the floor and
        fits the labels' noise, and extrapolates badly off the demonstrations (1000 -> ~150 return
        over the default 10 iterations); each fit gets the same number of steps instead."""
        if self.expert_labels is None:
            raise RuntimeError("label_demos() must run before fit_policy()")
        self.new_policy()
        policy, optimizer = self.modules["policy"], self.optimizers["policy"]
        steps = []
        for _ in range(num_updates):
            index = torch.as_tensor(self.rng.integers(len(self.expert_obs), size=batch_size), device=self.device)
            loss, metrics = self.losses.clone(policy(self.expert_obs[index]), self.expert_labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            self.updates += 1
            steps.append(metrics)
        return {name: float(np.mean([s[name] for s in steps])) for name in steps[0]}

    def policy_weights(self) -> dict[str, np.ndarray]:
        return self.get_weights(["policy"])["policy"]

    def state_dict(self) -> dict[str, Any]:
        return dict(super().state_dict(), rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.rng.bit_generator.state = state["rng"]


def env_spaces(ctx: RunContext) -> tuple[gym.Space, gym.Space]:
    env = ctx.make_env(1)
    try:
        return env.single_observation_space, env.single_action_space
    finally:
        env.close()


def supports(observation_space: gym.Space, action_space: gym.Space) -> str | None:
    """BCO's AlgorithmSpec.supports: Box or Discrete observations, Discrete actions or a 1-D Box
    with finite bounds."""
    if not isinstance(observation_space, (gym.spaces.Box, gym.spaces.Discrete)):
        return f"bco needs Box or Discrete observations, got {observation_space}"
    if isinstance(action_space, gym.spaces.Discrete):
        return None
    try:
        ActionBounds.of(action_space)
    except ValueError:
        return f"bco needs a Discrete action space or a 1-D Box with finite bounds, got {action_space}"
    return None


def train(config: BCOConfig, ctx: RunContext) -> TrainOutput:
    observation_space, action_space = env_spaces(ctx)
    schedule = interaction_schedule(config.budget, config.alpha, config.iterations)
    expert = ctx.demos.transitions()
    placement = ctx.placement
    placement.start()
    learner = placement.place(BCOLearner, config, observation_space, action_space, expert.obs,
                              expert.next_obs, ctx.seed, num_gpus=learner_gpus(placement, config.device))
    replay = make_replay(placement, config.budget, ctx.seed, config.replay_shards,
                         num_cpus=0.25 / config.replay_shards)
    acting = functools.partial(acting_policy, hidden=config.policy_hidden, conv_channels=config.conv_channels)
    group = RolloutGroup(placement, ctx.env_id, ctx.env_kwargs, config.num_workers, 1, ctx.seed, acting)
    eval_seed = derive_seed(ctx.seed, BC_EVAL)
    evaluator = (Evaluator(placement, ctx.env_id, ctx.env_kwargs, min(config.eval_episodes, 16),
                           eval_seed, functools.partial(acting, greedy=True))
                 if config.eval_episodes else None)

    first_phase, env_steps, curve = 0, 0, []
    if ctx.resume:
        state = load_checkpoint(ctx.checkpoint_dir)
        resolve([learner.call("load_state_dict", state["learner"]), replay.call("load_state_dict", state["replay"])])
        first_phase, env_steps, curve = state["phase"], state["env_steps"], [tuple(p) for p in state["curve"]]
        group.load_state_dict(state["workers"])
        if first_phase > 0:
            group.publish(resolve(learner.call("policy_weights")))
    spec = policy_spec(observation_space, action_space, config.policy_hidden, config.conv_channels)

    progress = Progress(config.budget, "bco", disable=not ctx.progress)
    progress.update(env_steps)
    metrics: dict[str, Any] = {}
    ends = np.cumsum(schedule).tolist()
    sampler = None
    if config.sampling == "async":
        # Chunks small enough that every phase spans a few per worker.
        chunk = max(1, min(schedule) // (2 * config.num_workers))
        sampler = AsyncSampler(group, replay, config.budget, config.max_policy_lag, chunk, env_steps=env_steps)
        sampler.allow(ends[first_phase] if first_phase < len(ends) else config.budget)
        sampler.start()
    max_lag = 0
    try:
        for phase in range(first_phase, len(schedule)):
            start = time.perf_counter()
            # 1. Interact: uniform random actions before the first clone, the sampled clone after.
            if sampler is None:
                stats = group.sample_into(replay, schedule[phase])
                new_steps, returns = stats.env_steps, stats.episode_returns
            else:
                # This phase's steps are in (some sampled while the previous phase was fitted); the
                # workers go on with the next phase's while this one is fitted.
                async_stats = sampler.wait_for(ends[phase])
                sampler.allow(ends[phase + 1] if phase + 1 < len(ends) else config.budget)
                new_steps, returns = async_stats.env_steps - env_steps, async_stats.episode_returns
                max_lag = async_stats.max_lag
            env_steps += new_steps
            if env_steps > config.budget:
                raise RuntimeError(f"rollouts used {env_steps} interactions, over the budget of {config.budget}")
            sps = new_steps / max(time.perf_counter() - start, 1e-9)
            # 2. Inverse dynamics on every agent transition so far; 3. label the expert pairs.
            inverse_metrics = resolve(learner.call("fit_inverse", replay, config.inverse_updates, config.batch_size))
            labels = resolve(learner.call("label_demos"))
            # 4. Behavioural cloning on the labels, and the new policy for the next interactions.
            policy_metrics = resolve(learner.call("fit_policy", config.policy_updates, config.batch_size))
            weights = resolve(learner.call("policy_weights"))
            if sampler is None:
                group.publish(weights)
            else:
                sampler.publish(weights)

            metrics = {**inverse_metrics, **policy_metrics, **labels}
            for name, value in {**inverse_metrics, **policy_metrics}.items():
                ctx.writer.add_scalar(tags.loss_tag(name), value, env_steps)
            for episode_return in returns:
                ctx.writer.add_scalar(tags.EPISODIC_RETURN, episode_return, env_steps)
            ctx.writer.add_scalar(tags.ENV_STEPS, env_steps, env_steps)
            ctx.writer.add_scalar(tags.SPS, sps, env_steps)
            if sampler is not None:
                ctx.writer.add_scalar(tags.POLICY_LAG, max_lag, env_steps)
            if evaluator is not None:
                eval_return = evaluator.evaluate(group.weights, config.eval_episodes, eval_seed)
                curve.append((env_steps, eval_return))
                ctx.report(env_steps, eval_return)

            policy_from_state(spec, weights).save(ctx.checkpoint_dir)
            with quiet(sampler, env_steps) as saved_steps:
                save_checkpoint(ctx.checkpoint_dir, {
                    "learner": resolve(learner.call("state_dict")),
                    "replay": resolve(replay.call("state_dict")),
                    "phase": phase + 1, "env_steps": saved_steps, "curve": curve, "schedule": schedule,
                    "workers": group.state_dict(),
                })
            progress.update(new_steps, **({"eval": curve[-1][1]} if evaluator is not None else {}))
        if sampler is not None:
            env_steps = sampler.stop().env_steps
    finally:
        if sampler is not None:
            sampler.close()
        progress.close()
        group.close()
        kill_all([learner, replay])
        if evaluator is not None:
            evaluator.close()
    policy = read_policy(ctx.checkpoint_dir)
    return TrainOutput(policy=policy, env_steps=env_steps, curve=curve,
                       metrics={"schedule": list(schedule), **{"final_" + k: v for k, v in metrics.items()},
                                **({"max_policy_lag": max_lag} if sampler is not None else {})})


ALGORITHM = AlgorithmSpec(
    name="bco",
    config_cls=BCOConfig,
    train=train,
    supports=supports,
    observation_only=True,
    description="BCO(alpha): inverse dynamics from the agent's own play labels the expert's "
                "observations, then behavioural cloning (Torabi et al. 2018).",
    extendable=(),  # the budget fixes every phase's interactions: a larger one is another run
)
