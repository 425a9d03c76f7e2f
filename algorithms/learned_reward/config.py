"""Configuration of the imitation family: four reward models, one config class each, optimised by PPO
(on-policy) or SAC (off-policy, `rl="sac"`).

`ImitationConfig` holds what every member shares (PPO, the runtime, reward plumbing); each algorithm
adds only its own reward model's fields, so `lfo list gaifo` shows GAIfO's fields and not PMI-IL's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

DISCRIMINATOR_REWARDS = ("gail", "neg_log", "logit")
GAIFO_INPUTS = ("delta", "next_obs", "both")
IMRL_REWARDS = ("tanh", "gaussian")
PMI_REWARDS = ("dot", "softmax")
PMI_NEGATIVES = ("expert", "in_batch", "agent")
REWARD_NORMS = ("scale", "standardize", "none")
GENERATORS = ("ppo", "sac")


def _check_choices(config: object, **choices: tuple[str, ...]) -> None:
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {getattr(config, name)!r}")


def _check_at_least(config: object, minimum: float, *names: str) -> None:
    for name in names:
        if getattr(config, name) < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {getattr(config, name)}")


def _check_positive(config: object, *names: str) -> None:
    for name in names:
        if not getattr(config, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(config, name)}")


@dataclass(frozen=True)
class ImitationConfig:
    """What GAIL, GAIfO, IMRL and PMI-IL share: the reward plumbing, PPO and the runtime."""

    reward_model: ClassVar[str] = ""
    """Which reward model the algorithm trains; fixed by the subclass."""

    rl: str = "ppo"
    """The policy optimiser: "ppo" (on-policy; Discrete or Box actions) or "sac" (off-policy from the
    shared replay, rewards relabelled by the current reward model at sample time; Box actions and
    vector observations)."""

    # --- the learned reward -------------------------------------------------------------------
    reward_offset: float = 0.0
    """Constant added to every learned reward before normalisation. It sets the sign of the per-step
    reward, and with it the termination bias: positive rewards make the agent prolong episodes
    (CartPole, where termination is failure), negative ones make it end them (Acrobot, MountainCar,
    where termination is the goal)."""
    reward_norm: str = "scale"
    """"scale": divide by the running std of the discounted imitation return (keeps the sign, so the
    offset's termination bias survives); "standardize": per-rollout zero mean, unit std; "none"."""
    reward_steps: int = 4
    """Reward-model gradient steps per iteration (agent transitions from the replay, expert from Parquet)."""
    reward_batch_size: int = 256
    """Expert (and agent) transitions per reward-model step."""
    replay_capacity: int | None = None
    """Agent transitions kept in the shared replay (reward training; SAC's updates); None: 50,000
    with PPO, 1,000,000 with SAC."""
    anneal_reward_lr: bool = False
    """Decay the reward model's learning rate linearly to 0 over total_env_steps, as the PPO one: an
    adversarial game then settles instead of oscillating."""
    holdout_fraction: float = 0.1
    """Fraction of expert episodes kept out of reward training for the eq. 20 ranking metric."""

    # --- PPO -----------------------------------------------------------------------------------
    total_env_steps: int = 300_000
    """Environment steps of the learner (evaluation excluded); a larger value on --resume extends a run."""
    num_workers: int = 1
    """Rollout workers (Ray actors, or objects in this process with placement local)."""
    envs_per_worker: int = 8
    """Vectorised environments per worker."""
    rollout_steps: int = 64
    """Vector steps per worker per iteration; a rollout is num_workers * envs_per_worker * rollout_steps."""
    policy_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the policy and of the value network (separate networks); () is linear."""
    lr: float = 1e-3
    """Adam learning rate of the policy (and of the value network unless value_lr is set)."""
    value_lr: float | None = None
    """Adam learning rate of the value network; None: lr. Linear values on one-hot states need large steps."""
    anneal_lr: bool = True
    """Decay the PPO learning rates linearly to 0 over total_env_steps."""
    gamma: float = 0.99
    """Discount of the imitation reward."""
    gae_lambda: float = 0.8
    """GAE lambda."""
    update_epochs: int = 10
    """PPO epochs over each rollout."""
    minibatch_size: int = 256
    """PPO minibatch size; every minibatch has exactly this many rows (the remainder of an epoch's
    shuffle is left for the next epoch's draw), so no step rests on a sliver of the rollout."""
    clip_coef: float = 0.2
    """PPO ratio clipping."""
    ent_coef: float = 0.01
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient clipping of the PPO update."""
    target_kl: float | None = None
    """Stop an iteration's PPO epochs at the first minibatch whose approximate KL from the rollout
    policy exceeds 1.5 * target_kl (SB3's rule); None: always run update_epochs."""

    # --- SAC (rl="sac") ---------------------------------------------------------------------------
    sac_hidden: tuple[int, ...] = (256, 256)
    """Hidden widths (relu) of SAC's actor and of each of its twin critics."""
    sac_lr: float = 3e-4
    """Adam learning rate of SAC's actor, critics and temperature."""
    sac_batch_size: int = 256
    """Transitions per SAC update."""
    utd_ratio: float = 1.0
    """SAC updates per env step (update-to-data ratio)."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    learning_starts: int = 5_000
    """Env steps of uniformly random actions before SAC's first update (they fill the replay)."""
    init_alpha: float = 1.0
    """Initial entropy weight alpha (tuned automatically towards target_entropy)."""
    target_entropy: float | None = None
    """Entropy SAC's temperature aims for; None: minus the action dimension."""
    sampling: str = "async"
    """rl=sac: "async" (lfo_ray.sampling): the rollout workers keep stepping while the learner updates,
    at most max_policy_lag weight versions behind; "sync": sample rollout_size steps, then update.
    PPO is on-policy and always samples synchronously."""
    max_policy_lag: int = 1
    """sampling=async: no transition reaches the replay more than this many policy versions stale."""

    # --- stopping, deployment ------------------------------------------------------------------
    stop_return: float | None = None
    """Stop once the mean true return of the last `stop_window` training episodes reaches this
    (benchmarks: time to a return). The true reward is never used for learning."""
    stop_window: int = 20
    """Training episodes averaged for `stop_return`."""
    eval_every: int = 0
    """Iterations between greedy evaluations of the current policy (true reward, `eval_episodes`
    episodes) on an evaluator of its own, concurrent with training on Ray; they become the learning
    curve and the reports a sweep's scheduler acts on. 0: none (the curve is training returns)."""
    eval_episodes: int = 10
    """Episodes per intermediate evaluation."""
    stop_eval_return: float | None = None
    """Stop once an intermediate greedy evaluation reaches this mean return (benchmarks: time to a
    deployable policy; needs eval_every > 0)."""
    checkpoint_every: int = 100
    """Iterations between checkpoints (learners, replay, counters) for --resume; one is always
    written at the end."""
    greedy: bool = True
    """Deploy the argmax action instead of sampling the policy."""
    device: str | None = None
    """Torch device of the learners; None or "auto": CUDA when visible, else CPU."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value}")
        _check_choices(self, reward_norm=REWARD_NORMS, rl=GENERATORS)
        _check_at_least(self, 1, "total_env_steps", "num_workers", "envs_per_worker", "rollout_steps",
                        "update_epochs", "reward_batch_size", "stop_window", "checkpoint_every",
                        "eval_episodes", "sac_batch_size")
        _check_at_least(self, 0, "learning_starts", "max_policy_lag")
        _check_choices(self, sampling=("sync", "async"))
        _check_positive(self, "sac_lr", "utd_ratio", "tau", "init_alpha")
        if self.replay_capacity is not None and self.replay_capacity < 1:
            raise ValueError(f"replay_capacity must be >= 1 or None, got {self.replay_capacity}")
        if not self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau}")
        if not self.sac_hidden or any(w < 1 for w in self.sac_hidden):
            raise ValueError(f"sac_hidden needs at least one layer of width >= 1, got {self.sac_hidden}")
        _check_at_least(self, 0, "eval_every")
        if self.stop_eval_return is not None and self.eval_every == 0:
            raise ValueError("stop_eval_return needs intermediate evaluations: set eval_every > 0")
        _check_at_least(self, 2, "minibatch_size")
        _check_at_least(self, 0, "reward_steps", "ent_coef", "vf_coef")
        _check_positive(self, "lr", "clip_coef", "max_grad_norm")
        if self.value_lr is not None and not self.value_lr > 0:
            raise ValueError(f"value_lr must be > 0 or None, got {self.value_lr}")
        if self.target_kl is not None and not self.target_kl > 0:
            raise ValueError(f"target_kl must be > 0 or None, got {self.target_kl}")
        if not 0.0 < self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"need 0 < gamma <= 1 and 0 <= gae_lambda <= 1, got {self.gamma}, {self.gae_lambda}")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be in [0, 1), got {self.holdout_fraction}")
        if any(w < 1 for w in self.policy_hidden):
            raise ValueError(f"policy_hidden widths must be >= 1, got {self.policy_hidden}")

    @property
    def uses_actions(self) -> bool:
        """True only for GAIL: every other reward model reads observations alone."""
        return self.reward_model == "gail"

    @property
    def pretrains(self) -> bool:
        """True for reward models learned from the expert alone, trained before RL starts."""
        return False

    @property
    def replay_rows(self) -> int:
        if self.replay_capacity is not None:
            return self.replay_capacity
        return 1_000_000 if self.rl == "sac" else 50_000

    @property
    def rollout_size(self) -> int:
        return self.num_workers * self.envs_per_worker * self.rollout_steps


@dataclass(frozen=True)
class DiscriminatorConfig(ImitationConfig):
    """The adversarial reward: a discriminator D = P(expert) trained against the agent's transitions."""

    disc_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the discriminator (at least one layer)."""
    disc_reward: str = "gail"
    """D = P(expert). "gail": -log(1 - D) >= 0; "neg_log": log D <= 0; "logit": log D - log(1 - D)."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator."""
    grad_penalty: float = 0.0
    """Weight of the gradient penalty (WGAN-GP style, at interpolates of expert and agent inputs)."""
    label_smoothing: float = 0.0
    """Expert labels become 1 - label_smoothing and agent labels label_smoothing."""
    absorbing: bool = False
    """DAC's absorbing states (learned_reward/absorbing.py): the discriminator also learns the reward
    of the state a terminated episode is absorbed in, and a terminated step's reward includes the
    discounted return of staying there, so the sign of the per-step reward no longer decides whether
    ending an episode pays. Vector (Box) observations; needs gamma < 1."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices(self, disc_reward=DISCRIMINATOR_REWARDS)
        if self.absorbing and not self.gamma < 1.0:
            raise ValueError(f"absorbing=true needs gamma < 1 (the absorbed return is a geometric sum), got {self.gamma}")
        _check_positive(self, "disc_lr")
        _check_at_least(self, 0, "grad_penalty")
        if not self.disc_hidden or any(w < 1 for w in self.disc_hidden):
            raise ValueError(f"disc_hidden needs at least one layer of width >= 1, got {self.disc_hidden}")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}")


@dataclass(frozen=True)
class GAILConfig(DiscriminatorConfig):
    """GAIL (Ho & Ermon 2016): the discriminator reads (s, a); needs the demonstrator's actions."""

    reward_model: ClassVar[str] = "gail"


@dataclass(frozen=True)
class GAIfOConfig(DiscriminatorConfig):
    """GAIfO (Torabi et al. 2018): the discriminator reads the state and its successor; observations only."""

    reward_model: ClassVar[str] = "gaifo"
    gaifo_input: str = "delta"
    """What the discriminator reads besides s: "delta": the step s' - s (standardised on its own for
    vectors, a shifted one-hot id difference for Discrete states); "next_obs": s' as published;
    "both": s' and the step. All are functions of (s, s')."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices(self, gaifo_input=GAIFO_INPUTS)


@dataclass(frozen=True)
class ExpertModelConfig(ImitationConfig):
    """Reward models learned from the expert's transitions alone, trained before RL starts."""

    pretrain_steps: int = 1000
    """Gradient steps on expert data alone before RL starts."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_at_least(self, 0, "pretrain_steps")

    @property
    def pretrains(self) -> bool:
        return True


@dataclass(frozen=True)
class IMRLConfig(ExpertModelConfig):
    """IMRL-style (Kimura et al. 2018): a next-state model of the expert; reward from its prediction error."""

    reward_model: ClassVar[str] = "imrl"
    model_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the next-state model theta(s) (predicts the features of s' - s)."""
    model_lr: float = 1e-3
    """Adam learning rate of the next-state model."""
    imrl_reward: str = "tanh"
    """"tanh": -tanh(||s' - theta(s)|| / imrl_width) (the talk's eq. 13 up to scale);
    "gaussian": log N(s'; theta(s), diag sigma^2) with a learned sigma (trajectory log-likelihood)."""
    imrl_width: float = 1.0
    """Error (in units of the expert's standardised step) at which the tanh reward is -0.76."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices(self, imrl_reward=IMRL_REWARDS)
        _check_positive(self, "model_lr", "imrl_width")
        if any(w < 1 for w in self.model_hidden):
            raise ValueError(f"model_hidden widths must be >= 1, got {self.model_hidden}")


@dataclass(frozen=True)
class PMIILConfig(ExpertModelConfig):
    """PMI-IL: InfoNCE two-tower phi1(s')^T phi2(s) reward (the talk's eq. 16/18)."""

    reward_model: ClassVar[str] = "pmi_il"
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

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices(self, negatives=PMI_NEGATIVES, pmi_reward=PMI_REWARDS)
        _check_at_least(self, 1, "embed_dim", "num_negatives")
        _check_positive(self, "tower_lr", "temperature")
        if any(w < 1 for w in self.tower_hidden):
            raise ValueError(f"tower_hidden widths must be >= 1, got {self.tower_hidden}")


CONFIGS: dict[str, type[ImitationConfig]] = {
    cls.reward_model: cls for cls in (GAILConfig, GAIfOConfig, IMRLConfig, PMIILConfig)}
