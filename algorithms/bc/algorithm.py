"""Behavioural cloning: fit pi(a|s) to the demonstrator's (state, action) pairs.

    learner = BCLearner(config, observation_space, num_actions, seed)
    for step in range(train_steps): sample a batch, minimise -log pi(a|s).

`BCLearner` is the supervised core DAgger reuses on its growing dataset.
"""

from __future__ import annotations


import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.bc.config import BCConfig
from lfo_ray.algorithms.bc.losses import bc_loss
from lfo_ray.algorithms.bc.networks import CategoricalPolicyNet, as_input, mlp_policy
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput, space_requirement
from lfo_ray.metrics import Progress
from lfo_ray.nets import pick_device
from lfo_ray.policy import Policy
from lfo_ray.rollout import evaluate_policy


class BCLearner:
    """A policy network and its optimiser, trained by minibatch steps on (obs, action) arrays."""

    def __init__(self, config: BCConfig, observation_space: gym.Space, num_actions: int, seed: int) -> None:
        self.config = config
        self.device = pick_device(config.device)
        torch.manual_seed(seed)
        self.net = CategoricalPolicyNet(observation_space, num_actions, config.hidden).to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    def train(self, obs: np.ndarray, actions: np.ndarray, num_steps: int, writer=None,
              global_step: int = 0) -> dict[str, float]:
        """`num_steps` gradient steps on minibatches drawn uniformly from (obs, actions)."""
        space = self.net.observation_space
        obs_t = as_input(obs, space, self.device)
        actions_t = torch.as_tensor(np.asarray(actions), dtype=torch.long, device=self.device)
        metrics: dict[str, float] = {}
        for step in range(num_steps):
            batch = torch.as_tensor(self.rng.integers(len(obs_t), size=self.config.batch_size),
                                    device=self.device)
            loss, metrics = bc_loss(self.net(obs_t[batch]), actions_t[batch], self.config.ent_weight)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            if writer is not None and (step % self.config.log_every == 0 or step == num_steps - 1):
                writer.add_scalar("losses/bc_loss", loss.item(), self.steps)
                writer.add_scalar("losses/neglogp", metrics["neglogp"], self.steps)
                writer.add_scalar("losses/entropy", metrics["entropy"], self.steps)
                writer.add_scalar("charts/accuracy", metrics["accuracy"], self.steps)
        return metrics

    def policy(self, seed: int | None = None) -> Policy:
        return mlp_policy(self.net, greedy=self.config.greedy, seed=seed)


def spaces_of(ctx: RunContext) -> tuple[gym.Space, int]:
    """The single observation space and the number of actions of the run's environment."""
    env = ctx.make_env(1)
    try:
        if not isinstance(env.single_action_space, gym.spaces.Discrete):
            raise ValueError(f"{ctx.env_id}: only Discrete action spaces are supported, "
                             f"got {env.single_action_space}")
        return env.single_observation_space, int(env.single_action_space.n)
    finally:
        env.close()


CURVE_POINTS = 10
"""Intermediate evaluations of a BC run (for the curve, TensorBoard and Tune's ASHA)."""
CURVE_EPISODES = 5
"""Episodes per intermediate evaluation: a few, so that the curve costs little beside training."""


def train(config: BCConfig, ctx: RunContext) -> TrainOutput:
    observation_space, num_actions = spaces_of(ctx)
    transitions = ctx.demos.transitions()
    learner = BCLearner(config, observation_space, num_actions, ctx.seed)
    env = ctx.make_env(CURVE_EPISODES)
    progress = Progress(config.train_steps, "bc", unit="update", disable=not ctx.progress)
    chunk = max(config.train_steps // CURVE_POINTS, 1)
    metrics: dict[str, float] = {}
    curve: list[tuple[int, float]] = []
    try:
        while learner.steps < config.train_steps:
            num = min(chunk, config.train_steps - learner.steps)
            metrics = learner.train(transitions.obs, transitions.actions, num, ctx.writer)
            returns = evaluate_policy(learner.policy(seed=ctx.seed), env, CURVE_EPISODES, ctx.seed + 5_000)
            curve.append((0, float(returns.mean())))
            ctx.report(0, curve[-1][1], step=learner.steps)
            progress.update(num, eval=curve[-1][1])
    finally:
        progress.close()
        env.close()
    policy = learner.policy(seed=ctx.seed)
    policy.save(ctx.checkpoint_dir)
    return TrainOutput(policy=policy, env_steps=0, curve=curve,
                       metrics={"final_" + k: v for k, v in metrics.items()})


ALGORITHM = AlgorithmSpec(
    name="bc",
    supports=space_requirement("bc needs a Discrete action space (every shipped env has one)"),
    config_cls=BCConfig,
    train=train,
    observation_only=False,
    description="Behavioural cloning: maximum likelihood of the demonstrated actions.",
    placements=("local",),
    resumable=False,
)
