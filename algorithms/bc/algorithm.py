"""Behavioural cloning: fit pi(a|s) to the demonstrator's (state, action) pairs.

    learner = BCLearner(config, observation_space, action_space, seed)
    for step in range(train_steps): sample a batch, minimise -log pi(a|s).

Discrete actions: a categorical policy. Box actions: a Gaussian over actions normalised to
[-1, 1] (lfo_ray.distributions.ActionBounds), fitted by maximum likelihood; the greedy policy acts
with its mean. `BCLearner` is the supervised core DAgger reuses on its growing dataset.
"""

from __future__ import annotations


import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.bc.config import BCConfig
from lfo_ray.algorithms.bc.losses import bc_loss, gaussian_bc_loss
from lfo_ray.algorithms.bc.networks import policy_spec
from lfo_ray.distributions import ActionBounds
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput
from lfo_ray.metrics import Progress
from lfo_ray.nets import obs_dtype, pick_device, to_tensor
from lfo_ray.policy import Policy
from lfo_ray.rollout import evaluate_policy
from lfo_ray.seeding import BC_EVAL, derive_seed


class BCLearner:
    """A policy network and its optimiser, trained by minibatch steps on (obs, action) arrays.

    The observation statistics are fitted on the first call's observations (the demonstrations)
    and kept afterwards: DAgger's later rounds train on the scale the network has learned.
    """

    def __init__(self, config: BCConfig, observation_space: gym.Space, action_space: gym.Space, seed: int) -> None:
        self.config = config = config.for_actions(action_space)
        self.device = pick_device(config.device)
        self.observation_space, self.action_space = observation_space, action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.bounds = None if self.discrete else ActionBounds.of(action_space)
        torch.manual_seed(seed)
        self.net = policy_spec(observation_space, action_space, config.hidden, config.greedy).build().to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.rng = np.random.default_rng(seed)
        self.steps = 0
        self.fitted = False

    def targets(self, actions: np.ndarray) -> torch.Tensor:
        """Demonstrated actions as the loss takes them: class ids, or normalised Box actions clipped
        to [-1, 1] (the env acted on the clipped action, whatever the demonstrator sent)."""
        if self.discrete:
            return to_tensor(np.asarray(actions) - self.action_space.start, torch.long, self.device)
        normalised = self.bounds.from_env(np.asarray(actions).reshape(len(actions), self.bounds.dim))
        return to_tensor(np.clip(normalised, -1.0, 1.0), torch.float32, self.device)

    def loss(self, obs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.discrete:
            return bc_loss(self.net(obs), targets, self.config.ent_weight)
        return gaussian_bc_loss(*self.net(obs), targets, self.config.ent_weight)

    def train(self, obs: np.ndarray, actions: np.ndarray, num_steps: int, writer=None,
              global_step: int = 0) -> dict[str, float]:
        """`num_steps` gradient steps on minibatches drawn uniformly from (obs, actions)."""
        obs_t = to_tensor(np.asarray(obs), obs_dtype(self.observation_space), self.device)
        if not self.fitted:
            self.net.features.fit(obs_t.float())
            self.fitted = True
        targets = self.targets(actions)
        metrics: dict[str, float] = {}
        for step in range(num_steps):
            batch = torch.as_tensor(self.rng.integers(len(obs_t), size=self.config.batch_size),
                                    device=self.device)
            loss, metrics = self.loss(obs_t[batch], targets[batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            if writer is not None and (step % self.config.log_every == 0 or step == num_steps - 1):
                writer.add_scalar("losses/bc_loss", loss.item(), self.steps)
                for name, value in metrics.items():
                    writer.add_scalar(("charts/" if name == "accuracy" else "losses/") + name, value, self.steps)
        return metrics

    def policy(self, seed: int | None = None) -> Policy:
        spec = policy_spec(self.observation_space, self.action_space, self.config.hidden, self.config.greedy)
        return Policy(self.net, spec, seed)


def resolved_fields(config: BCConfig) -> dict:
    """The fields BCConfig.for_actions set, for result.json (what actually ran)."""
    return {"hidden": list(config.hidden), "train_steps": config.train_steps, "greedy": config.greedy}


def spaces_of(ctx: RunContext) -> tuple[gym.Space, gym.Space]:
    """The single observation and action spaces of the run's environment."""
    env = ctx.make_env(1)
    try:
        return env.single_observation_space, env.single_action_space
    finally:
        env.close()


def action_requirement(algo: str):
    """AlgorithmSpec.supports of BC and DAgger: Discrete actions, or a 1-D Box with finite bounds
    (any Box or Discrete observations)."""

    def supports(observation_space: gym.Space, action_space: gym.Space) -> str | None:
        if not isinstance(observation_space, (gym.spaces.Box, gym.spaces.Discrete)):
            return f"{algo} needs Box or Discrete observations, got {observation_space}"
        if isinstance(action_space, gym.spaces.Discrete):
            return None
        try:
            ActionBounds.of(action_space)
        except ValueError:
            return f"{algo} needs a Discrete action space or a 1-D Box with finite bounds, got {action_space}"
        return None

    return supports


CURVE_POINTS = 10
"""Intermediate evaluations of a BC run (for the curve, TensorBoard and Tune's ASHA)."""
CURVE_EPISODES = 5
"""Episodes per intermediate evaluation: a few, so that the curve costs little beside training."""


def train(config: BCConfig, ctx: RunContext) -> TrainOutput:
    observation_space, action_space = spaces_of(ctx)
    transitions = ctx.demos.transitions()
    learner = BCLearner(config, observation_space, action_space, ctx.seed)
    config = learner.config
    env = ctx.make_env(CURVE_EPISODES)
    progress = Progress(config.train_steps, "bc", unit="update", disable=not ctx.progress)
    chunk = max(config.train_steps // CURVE_POINTS, 1)
    metrics: dict[str, float] = {}
    curve: list[tuple[int, float]] = []
    try:
        while learner.steps < config.train_steps:
            num = min(chunk, config.train_steps - learner.steps)
            metrics = learner.train(transitions.obs, transitions.actions, num, ctx.writer)
            returns = evaluate_policy(learner.policy(seed=ctx.seed), env, CURVE_EPISODES,
                                      derive_seed(ctx.seed, BC_EVAL))
            curve.append((0, float(returns.mean())))
            ctx.report(0, curve[-1][1], step=learner.steps)
            progress.update(num, eval=curve[-1][1])
    finally:
        progress.close()
        env.close()
    policy = learner.policy(seed=ctx.seed)
    policy.save(ctx.checkpoint_dir)
    return TrainOutput(policy=policy, env_steps=0, curve=curve,
                       metrics={**{"final_" + k: v for k, v in metrics.items()}, **resolved_fields(config)})


ALGORITHM = AlgorithmSpec(
    name="bc",
    supports=action_requirement("bc"),
    config_cls=BCConfig,
    train=train,
    observation_only=False,
    description="Behavioural cloning: maximum likelihood of the demonstrated actions.",
    placements=("local",),
    resumable=False,
)
