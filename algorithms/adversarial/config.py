"""Configuration of the adversarial imitation core shared by GAIL and GAIfO."""

from __future__ import annotations

from dataclasses import dataclass

DISCRIMINATOR_INPUTS = ("state_action", "state_next_state")
REWARDS = ("logit", "gail", "neg_log")


@dataclass(frozen=True)
class AdversarialConfig:
    discriminator_input: str = "state_action"
    """What the discriminator sees: "state_action" (GAIL) or "state_next_state" (GAIfO)."""
    next_state_difference: bool = True
    """With "state_next_state", also give the discriminator s' - s as a component of its own
    (`networks.difference_space`): one learned input for each kind of change, shared by all
    states, as GAIL's action input is. On one-hot observations (s, s') alone shares nothing
    between cells, so states the demonstrations never visit get no signal. Unused by GAIL."""
    total_env_steps: int = 3_000_000
    """Environment steps of the learner (the policy-gradient samples)."""
    num_envs: int = 256
    """Parallel environments per rollout."""
    num_steps: int = 16
    """Steps per environment per rollout; a rollout is num_envs * num_steps transitions."""
    policy_hidden: tuple[int, ...] = ()
    """Hidden widths of the policy network; () is linear in the (one-hot) observation."""
    value_hidden: tuple[int, ...] = ()
    """Hidden widths of the value network."""
    policy_lr: float = 0.02
    """Adam learning rate of the policy network."""
    value_lr: float = 0.2
    """Adam learning rate of the value network (tabular values need large steps)."""
    anneal_lr: bool = True
    """Decay the policy, value and discriminator learning rates linearly to 0 over training,
    as CleanRL's PPO does: the adversarial game then settles instead of oscillating."""
    gamma: float = 0.95
    """Discount of the imitation reward. The log D reward is negative, so a long horizon
    rewards ending episodes fast (a shortcut through a pit saves many negative steps); 0.95
    keeps the learner local, following the demonstrated transitions."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    update_epochs: int = 4
    """PPO epochs over each rollout."""
    num_minibatches: int = 4
    """PPO minibatches per epoch."""
    clip_coef: float = 0.2
    """PPO ratio clipping."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient clipping of the policy and value update."""
    disc_hidden: tuple[int, ...] = (64,)
    """Hidden widths of the discriminator (at least one: its inputs are summed there)."""
    disc_lr: float = 1e-3
    """Adam learning rate of the discriminator."""
    disc_steps: int = 4
    """Discriminator minibatch steps per rollout."""
    disc_batch_size: int = 1024
    """Expert and learner transitions per discriminator minibatch (each)."""
    reward: str = "neg_log"
    """Imitation reward from D = P(expert): "logit" log D - log(1 - D), "gail" -log(1 - D),
    "neg_log" log D."""
    greedy: bool = False
    """Deploy the argmax action instead of sampling the policy."""
    device: str = "cpu"
    """Torch device ("auto": the GPU when there is one)."""

    def __post_init__(self) -> None:
        if self.discriminator_input not in DISCRIMINATOR_INPUTS:
            raise ValueError(f"discriminator_input must be one of {DISCRIMINATOR_INPUTS}, "
                             f"got {self.discriminator_input!r}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if not self.disc_hidden:
            raise ValueError("disc_hidden needs at least one layer")
        for name in ("total_env_steps", "num_envs", "num_steps", "update_epochs", "num_minibatches",
                     "disc_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError(f"num_envs * num_steps = {self.num_envs * self.num_steps} must divide "
                             f"into num_minibatches = {self.num_minibatches}")
        if not 0.0 < self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"need 0 < gamma <= 1 and 0 <= gae_lambda <= 1, got {self.gamma}, {self.gae_lambda}")
        if self.disc_steps < 0 or min(self.policy_lr, self.value_lr, self.disc_lr) <= 0:
            raise ValueError("disc_steps must be >= 0 and learning rates > 0")


@dataclass(frozen=True)
class GAILConfig(AdversarialConfig):
    """GAIL: the discriminator sees (s, a)."""


@dataclass(frozen=True)
class GAIfOConfig(AdversarialConfig):
    """GAIfO: the discriminator sees (s, s'), so demonstrations need no actions."""

    discriminator_input: str = "state_next_state"
    """What the discriminator sees; GAIfO learns from observations only: "state_next_state"."""
