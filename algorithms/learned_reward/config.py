"""Configuration of the learned-reward family: one PPO loop, four pluggable reward models."""

from __future__ import annotations

from dataclasses import dataclass

REWARD_MODELS = ("gail", "gaifo", "imrl", "pmi_il")
DISCRIMINATOR_REWARDS = ("gail", "neg_log", "logit")
GAIFO_INPUTS = ("delta", "next_obs")
IMRL_REWARDS = ("tanh", "gaussian")
PMI_REWARDS = ("dot", "softmax")
PMI_NEGATIVES = ("expert", "in_batch", "agent")
REWARD_NORMS = ("scale", "standardize", "none")


@dataclass(frozen=True)
class LearnedRewardConfig:
    # --- which reward --------------------------------------------------------------------------
    reward_model: str = "gaifo"
    """"gail": discriminator on (s, a); "gaifo": discriminator on (s, s'); "imrl": next-state model,
    reward from its prediction error; "pmi_il": InfoNCE two-tower phi1(s')^T phi2(s)."""
    reward_offset: float = 0.0
    """Constant added to every learned reward before normalisation. It sets the sign of the per-step
    reward, and with it the termination bias: positive rewards make the agent prolong episodes
    (CartPole, where termination is failure), negative ones make it end them (Acrobot, MountainCar,
    where termination is the goal)."""
    reward_norm: str = "scale"
    """"scale": divide by the running std of the discounted imitation return (keeps the sign, so the
    offset's termination bias survives); "standardize": per-rollout zero mean, unit std; "none"."""

    # --- adversarial (gail / gaifo) ------------------------------------------------------------
    disc_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the discriminator."""
    disc_reward: str = "gail"
    """D = P(expert). "gail": -log(1 - D) >= 0; "neg_log": log D <= 0; "logit": log D - log(1 - D)."""
    gaifo_input: str = "delta"
    """GAIfO's second discriminator input: "delta": s' - s, normalised on its own (a step is ~1% of
    the state's spread); "next_obs": s' normalised like s, as published. Both are functions of (s, s')."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator."""
    grad_penalty: float = 0.0
    """Weight of the gradient penalty (WGAN-GP style, at interpolates of expert and agent inputs)."""
    label_smoothing: float = 0.0
    """Expert labels become 1 - label_smoothing and agent labels label_smoothing."""

    # --- IMRL --------------------------------------------------------------------------------
    model_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the next-state model theta(s) (predicts s' - s)."""
    model_lr: float = 1e-3
    """Adam learning rate of the next-state model."""
    imrl_reward: str = "tanh"
    """"tanh": -tanh(||s' - theta(s)|| / imrl_width) (the talk's eq. 13 up to scale);
    "gaussian": log N(s'; theta(s), diag sigma^2) with a learned sigma (trajectory log-likelihood)."""
    imrl_width: float = 1.0
    """Error (in units of the expert's normalised next state) at which the tanh reward is -0.76."""
    pretrain_steps: int = 1000
    """Gradient steps on expert data alone before RL starts (IMRL and PMI-IL learn from the expert
    only, so they are trained first; the adversarial models start untrained)."""

    # --- PMI-IL --------------------------------------------------------------------------------
    embed_dim: int = 32
    """Width of the two towers' embeddings phi1(s'), phi2(s)."""
    tower_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of each tower."""
    tower_lr: float = 1e-3
    """Adam learning rate of the towers."""
    temperature: float = 0.1
    """Softmax temperature tau of the InfoNCE loss and of the eq. 18 reward."""
    normalize_embeddings: bool = True
    """L2-normalise phi1 and phi2, so their dot product is a cosine (the talk's eq. 19)."""
    negatives: str = "in_batch"
    """InfoNCE negatives: "in_batch": the other expert next states in the minibatch; "expert": a fresh
    draw of `num_negatives` expert next states; "agent": in-batch plus as many agent next states."""
    num_negatives: int = 255
    """Negatives per positive for "expert", and the expert next states X^IL of the eq. 18 reward."""
    pmi_reward: str = "softmax"
    """"dot": eq. 16/19, phi1(s')^T phi2(s) / tau; "softmax": eq. 18 in its likelihood form,
    log softmax of the agent's s' among itself and X^IL (higher = more expert-like)."""
    holdout_fraction: float = 0.1
    """Fraction of expert episodes kept out of reward training for the eq. 20 ranking metric."""

    # --- reward training on the runtime ------------------------------------------------------
    reward_steps: int = 4
    """Reward-model gradient steps per iteration (agent transitions from the replay, expert from Parquet)."""
    reward_batch_size: int = 256
    """Expert (and agent) transitions per reward-model step."""
    replay_capacity: int = 50_000
    """Agent transitions kept in the shared replay for reward training."""

    # --- PPO -----------------------------------------------------------------------------------
    total_env_steps: int = 300_000
    """Environment steps of the learner (evaluation excluded)."""
    num_workers: int = 1
    """Rollout workers (Ray actors, or objects in this process with placement local)."""
    envs_per_worker: int = 8
    """Vectorised environments per worker."""
    rollout_steps: int = 64
    """Vector steps per worker per iteration; a rollout is num_workers * envs_per_worker * rollout_steps."""
    policy_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the policy and of the value network (separate networks)."""
    lr: float = 1e-3
    """Adam learning rate of policy and value."""
    anneal_lr: bool = True
    """Decay the PPO learning rate linearly to 0 over total_env_steps."""
    gamma: float = 0.98
    """Discount of the imitation reward."""
    gae_lambda: float = 0.8
    """GAE lambda."""
    update_epochs: int = 10
    """PPO epochs over each rollout."""
    minibatch_size: int = 256
    """PPO minibatch size."""
    clip_coef: float = 0.2
    """PPO ratio clipping."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient clipping of the PPO update."""
    target_kl: float | None = None
    """Stop an iteration's PPO epochs at the first minibatch whose approximate KL from the rollout
    policy exceeds 1.5 * target_kl (SB3's rule); None: always run update_epochs."""

    # --- stopping, deployment ------------------------------------------------------------------
    stop_return: float | None = None
    """Stop once the mean true return of the last `stop_window` training episodes reaches this
    (benchmarks: time to a return). The true reward is never used for learning."""
    stop_window: int = 20
    """Training episodes averaged for `stop_return`."""
    checkpoint_every: int = 100
    """Iterations between checkpoints (learners, replay, counters) for --resume; one is always
    written at the end."""
    greedy: bool = True
    """Deploy the argmax action instead of sampling the policy."""
    device: str | None = None
    """Torch device of the learners; None: CUDA when visible, else CPU."""

    def __post_init__(self) -> None:
        choices = {"reward_model": REWARD_MODELS, "disc_reward": DISCRIMINATOR_REWARDS, "gaifo_input": GAIFO_INPUTS,
                   "imrl_reward": IMRL_REWARDS, "pmi_reward": PMI_REWARDS, "negatives": PMI_NEGATIVES,
                   "reward_norm": REWARD_NORMS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("total_env_steps", "num_workers", "envs_per_worker", "rollout_steps", "update_epochs",
                     "minibatch_size", "reward_batch_size", "replay_capacity", "embed_dim", "num_negatives",
                     "stop_window", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("reward_steps", "pretrain_steps", "grad_penalty", "ent_coef"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"target_kl must be > 0 or None, got {self.target_kl}")
        if min(self.lr, self.disc_lr, self.model_lr, self.tower_lr, self.temperature, self.imrl_width) <= 0:
            raise ValueError("learning rates, temperature and imrl_width must be > 0")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}")
        if not 0.0 < self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"need 0 < gamma <= 1 and 0 <= gae_lambda <= 1, got {self.gamma}, {self.gae_lambda}")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be in [0, 1), got {self.holdout_fraction}")
        if any(w < 1 for w in self.disc_hidden + self.model_hidden + self.tower_hidden + self.policy_hidden):
            raise ValueError("layer widths must be >= 1")
        if not self.disc_hidden:
            raise ValueError("disc_hidden needs at least one layer")

    @property
    def uses_actions(self) -> bool:
        """True only for GAIL: every other reward model reads observations alone."""
        return self.reward_model == "gail"

    @property
    def rollout_size(self) -> int:
        return self.num_workers * self.envs_per_worker * self.rollout_steps


@dataclass(frozen=True)
class GAILConfig(LearnedRewardConfig):
    """GAIL: discriminator on (s, a); needs the demonstrator's actions."""

    reward_model: str = "gail"
    """Fixed by the algorithm name; see LearnedRewardConfig."""


@dataclass(frozen=True)
class GAIfOConfig(LearnedRewardConfig):
    """GAIfO: discriminator on (s, s'); observations only."""

    reward_model: str = "gaifo"
    """Fixed by the algorithm name; see LearnedRewardConfig."""


@dataclass(frozen=True)
class IMRLConfig(LearnedRewardConfig):
    """IMRL-style: reward from a next-state model's prediction error; observations only."""

    reward_model: str = "imrl"
    """Fixed by the algorithm name; see LearnedRewardConfig."""


@dataclass(frozen=True)
class PMIILConfig(LearnedRewardConfig):
    """PMI-IL: InfoNCE two-tower reward; observations only."""

    reward_model: str = "pmi_il"
    """Fixed by the algorithm name; see LearnedRewardConfig."""
