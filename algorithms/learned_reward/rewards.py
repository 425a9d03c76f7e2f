"""Reward models: one small interface, four implementations, one PPO loop for all of them.

    model = make_reward_model(config, observation_space, action_space, expert_pool, seed)
    model.pretrain_step(expert)          # IMRL, PMI-IL: they learn from the expert alone
    model.update(expert, agent)          # one gradient step (the discriminators need agent data)
    model.reward(obs, actions, next_obs) # (B,) learned reward of agent transitions
    model.score(obs, next_obs)           # (B,) f(s, s'), what the eq. 20 ranking metric ranks by

GAIL and GAIfO are one class whose second input is a switch (actions or next observations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

import gymnasium as gym

from lfo_ray.algorithms.learned_reward.config import (
    DiscriminatorConfig,
    GAIfOConfig,
    ImitationConfig,
    IMRLConfig,
    PMIILConfig,
)
from lfo_ray.algorithms.learned_reward.losses import (
    dot_reward,
    gaussian_nll,
    gradient_penalty,
    imitation_reward,
    in_batch_scores,
    infonce_loss,
    prediction_error_reward,
    smoothed_discriminator_loss,
    softmax_reward,
)
from lfo_ray.algorithms.learned_reward.networks import NextStateModel, PairDiscriminator, TwoTower
from lfo_ray.nets import adam


@dataclass(frozen=True)
class TransitionTensors:
    """A batch of transitions as tensors: obs, next_obs (B, ...) float, or (B,) long ids for Discrete
    observations; actions (B,) long ids, (B, D) float normalised Box actions, or None."""

    obs: torch.Tensor
    next_obs: torch.Tensor
    actions: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.obs.shape != self.next_obs.shape:
            raise ValueError(f"obs {tuple(self.obs.shape)} and next_obs {tuple(self.next_obs.shape)} differ")
        if self.actions is not None and len(self.actions) != len(self.obs):
            raise ValueError(f"{len(self.actions)} actions for {len(self.obs)} observations")


class RewardModel:
    """Base: owns its networks and one optimiser; subclasses define the loss and the reward."""

    uses_actions = False
    learns_from_agent = True
    """False for models trained on expert data alone (IMRL, PMI-IL except with agent negatives)."""
    pretrains = False
    """True for models that learn from the expert alone and so are trained before RL starts."""

    def __init__(self, module: torch.nn.Module, lr: float, expert_pool: TransitionTensors, seed: int) -> None:
        self.module = module
        self.optimizer = adam(module.parameters(), lr)
        self.expert_pool = expert_pool
        self.generator = torch.Generator(device=expert_pool.next_obs.device)
        self.generator.manual_seed(seed)

    def loss(self, expert: TransitionTensors, agent: TransitionTensors | None) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def reward(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def score(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor | None:
        """f(s, s') for ranking next states (eq. 20); None when the model does not score (s, s')."""
        return None

    def step(self, expert: TransitionTensors, agent: TransitionTensors | None) -> dict[str, torch.Tensor]:
        """One gradient step; metrics stay tensors, so a caller syncs with the device once per call."""
        loss, metrics = self.loss(expert, agent)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"reward_loss": loss.detach(), **metrics}

    def pretrain_step(self, expert: TransitionTensors) -> dict[str, torch.Tensor]:
        return self.step(expert, None)

    def update(self, expert: TransitionTensors, agent: TransitionTensors) -> dict[str, torch.Tensor]:
        return self.step(expert, agent if self.learns_from_agent else None)

    def sample_expert_next_obs(self, count: int) -> torch.Tensor:
        index = torch.randint(len(self.expert_pool.next_obs), (count,), generator=self.generator,
                              device=self.expert_pool.next_obs.device)
        return self.expert_pool.next_obs[index]


class AdversarialReward(RewardModel):
    """GAIL (second input: the action, one-hot) or GAIfO (second input: the step and/or s'), one class."""

    def __init__(self, config: DiscriminatorConfig, observation_space: gym.Space, action_space: gym.Space,
                 expert_pool: TransitionTensors, seed: int) -> None:
        self.uses_actions = config.uses_actions
        second = config.gaifo_input if isinstance(config, GAIfOConfig) else "action"
        torch.manual_seed(seed)
        module = PairDiscriminator(observation_space, action_space, config.disc_hidden,
                                   second).to(expert_pool.next_obs.device)
        module.fit(expert_pool.obs, expert_pool.next_obs)
        if config.grad_penalty > 0 and not module.continuous:
            raise ValueError("grad_penalty interpolates between float inputs: it needs Box observations")
        super().__init__(module, config.disc_lr, expert_pool, seed)
        self.config = config

    def loss(self, expert, agent):
        if agent is None:
            raise ValueError("the discriminator needs agent transitions")
        disc = self.module
        expert_x = disc.features(expert.obs, expert.actions, expert.next_obs)
        agent_x = disc.features(agent.obs, agent.actions, agent.next_obs)
        expert_logits, agent_logits = disc.head(expert_x), disc.head(agent_x)
        loss = smoothed_discriminator_loss(expert_logits, agent_logits, self.config.label_smoothing)
        metrics = {"expert_prob": torch.sigmoid(expert_logits).mean().detach(),
                   "agent_prob": torch.sigmoid(agent_logits).mean().detach()}
        if self.config.grad_penalty > 0:
            # Row counts differ when absorbing rows were added to either side: pair the first rows.
            rows = min(len(expert.obs), len(agent.obs))
            penalty = gradient_penalty(disc.dense_head, torch.cat(expert_x, 1)[:rows], torch.cat(agent_x, 1)[:rows],
                                       self.generator)
            loss = loss + self.config.grad_penalty * penalty
            metrics["grad_penalty"] = penalty.detach()
        return loss, metrics

    def reward(self, obs, actions, next_obs):
        return imitation_reward(self.module(obs, actions, next_obs), self.config.disc_reward)

    def score(self, obs, next_obs):
        return None if self.uses_actions else self.module(obs, None, next_obs)


class InternalModelReward(RewardModel):
    """IMRL: theta(s) fitted to the expert's next states by Gaussian likelihood; the reward compares the
    agent's actual next state with theta's prediction."""

    learns_from_agent = False
    pretrains = True

    def __init__(self, config: IMRLConfig, observation_space: gym.Space, action_space: gym.Space,
                 expert_pool: TransitionTensors, seed: int) -> None:
        torch.manual_seed(seed)
        module = NextStateModel(observation_space, config.model_hidden).to(expert_pool.next_obs.device)
        module.fit(expert_pool.obs, expert_pool.next_obs)
        super().__init__(module, config.model_lr, expert_pool, seed)
        self.config = config

    def loss(self, expert, agent):
        model = self.module
        nll = gaussian_nll(model(expert.obs), model.log_std, model.target(expert.obs, expert.next_obs)).mean()
        return nll, {"model_std": model.log_std.exp().mean().detach()}

    def reward(self, obs, actions, next_obs):
        model = self.module
        predicted, actual = model(obs), model.target(obs, next_obs)
        if self.config.imrl_reward == "tanh":
            return prediction_error_reward(predicted, actual, self.config.imrl_width)
        return -gaussian_nll(predicted, model.log_std, actual)

    def score(self, obs, next_obs):
        return self.reward(obs, None, next_obs)


class PMIReward(RewardModel):
    """PMI-IL: the two towers trained with InfoNCE on expert transitions; eq. 16 or eq. 18 reward."""

    pretrains = True

    def __init__(self, config: PMIILConfig, observation_space: gym.Space, action_space: gym.Space,
                 expert_pool: TransitionTensors, seed: int) -> None:
        torch.manual_seed(seed)
        module = TwoTower(observation_space, config.tower_hidden, config.embed_dim,
                          config.normalize_embeddings).to(expert_pool.next_obs.device)
        module.fit(expert_pool.obs, expert_pool.next_obs)
        super().__init__(module, config.tower_lr, expert_pool, seed)
        self.config = config
        self.learns_from_agent = config.negatives == "agent"

    def loss(self, expert, agent):
        towers, tau = self.module, self.config.temperature
        embed, next_embed = towers.embed(expert.obs), towers.next_embed(expert.next_obs)
        if self.config.negatives == "expert":
            negatives = towers.next_embed(self.sample_expert_next_obs(self.config.num_negatives))
            positive = (next_embed * embed).sum(-1, keepdim=True) / tau
            scores = torch.cat([positive, embed @ negatives.T / tau], dim=1)
        else:
            extra = towers.next_embed(agent.next_obs) if agent is not None else None
            scores = in_batch_scores(next_embed, embed, tau, extra)
        loss = infonce_loss(scores)
        accuracy = (scores.argmax(1) == 0).float().mean().detach()
        return loss, {"infonce_accuracy": accuracy}

    def reward(self, obs, actions, next_obs):
        towers, tau = self.module, self.config.temperature
        embed, next_embed = towers.embed(obs), towers.next_embed(next_obs)
        if self.config.pmi_reward == "dot":
            return dot_reward(next_embed, embed, tau)
        negatives = towers.next_embed(self.sample_expert_next_obs(self.config.num_negatives))
        return softmax_reward(next_embed, embed, negatives, tau)

    def score(self, obs, next_obs):
        return dot_reward(self.module.next_embed(next_obs), self.module.embed(obs), self.config.temperature)


def make_reward_model(config: ImitationConfig, observation_space: gym.Space, action_space: gym.Space,
                      expert_pool: TransitionTensors, seed: int) -> RewardModel:
    """The reward model of config's algorithm; standardisation fitted on `expert_pool`."""
    cls: Any = {"gail": AdversarialReward, "gaifo": AdversarialReward, "imrl": InternalModelReward,
                "pmi_il": PMIReward}[config.reward_model]
    return cls(config, observation_space, action_space, expert_pool, seed)
