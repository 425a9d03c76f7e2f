"""ILPO configuration. Defaults follow the reference code (ashedwards/ILPO) where it fixes a value."""

from __future__ import annotations

from dataclasses import dataclass

from lfo_ray.algorithms.ilpo.losses import POLICY_TERMS

REMAP_SPACES = ("auto", "state", "encoding")
SAMPLING = ("sync", "async")


@dataclass(frozen=True)
class ILPOConfig:
    n_latent: int = 0
    """Latent actions z of the LPN; 0: as many as the environment's real actions (the reference's
    setting for CartPole and Acrobot). May exceed the real actions (e.g. to model bumping a wall)."""
    hidden: int = 128
    """Vector observations: the encoder is FC hidden -> 2*hidden, the generator 2*hidden -> hidden
    -> obs_dim, leaky ReLU 0.2 between (the reference's ngf, default 128)."""
    conv_channels: int = 16
    """Image observations: channels of the first conv layer, doubled at each of the 4 encoder
    layers and mirrored by the decoder (the reference's ngf for images, 15)."""
    standardize: bool = True
    """Vector observations: the LPN and ARN read, and the LPN predicts, states standardised by the
    demonstrations' per-dimension mean and std (the reference feeds raw states). Without it, the
    squared error is dominated by the largest-scale dimensions (Acrobot's angular velocities)."""
    delta_standardize: bool = True
    """Vector observations: the LPN predicts, and the remapping compares, state changes s' - s
    standardised per dimension by the demonstrations' mean and std of the change (rather than
    changes of standardised states, the setting before issue 13: false). An action's one-step
    effect is small next to a state's spread (MountainCar: 0.001 of velocity against a std of
    0.023) but not next to the change's spread (0.0016), so the latent actions' predictions stay
    distinguishable. Chosen on screening seeds (experiments/results/ilpo_reproduction.md)."""
    policy_term: str = "assignment"
    """What trains the latent policy pi(z|s): "assignment" (cross-entropy to the latent whose
    prediction is closest to s', so argmax pi is the most frequent latent, also where latent
    effects are collinear) or "expected" (the paper, and the setting before issue 13:
    ||sum_z pi(z|s) s_hat'_z - s'||^2, which on MountainCar picked the wrong latent on 2 of 6
    screening seeds; experiments/results/ilpo_reproduction.md)."""
    lpn_steps: int = 10_000
    """LPN gradient steps on the demonstrations (phase 1, offline: no interactions). The reference
    runs 100 epochs of batch 32 (~150k steps); a larger batch and a decaying rate need far fewer."""
    lpn_batch_size: int = 64
    """Demonstration transitions (s, s') per LPN step (the reference: 32). On clean Acrobot
    demonstrations 64 and 256 reached the same return (-102 vs -104, seed 0); on one CPU
    thread a step costs about the same either way (per-op overhead dominates these sizes)."""
    demo_buffer_rows: int = 1_000_000
    """Demonstration transitions held in the learner's memory; a larger file streams from
    Parquet through a shuffle buffer of this many rows (the standardisation statistics are
    then those of the first buffer)."""
    lpn_lr: float = 1e-3
    """Adam learning rate of the LPN."""
    lpn_lr_final: float = 1e-5
    """The LPN learning rate decays from lpn_lr to this on a cosine over lpn_steps: the remapping
    needs predictions finer than the action's effect on one step (small on Acrobot)."""
    lpn_beta1: float = 0.9
    """Adam beta1 of the LPN (the reference uses pix2pix's 0.5 with a 5x smaller rate)."""
    interaction_budget: int = 1_000
    """Environment interactions of the ARN phase (phase 2); evaluation episodes are not counted."""
    chunk_steps: int = 50
    """Interactions gathered (across all workers) between two rounds of ARN updates and weight
    publication: one Ray round trip per chunk, never per step."""
    epsilon: float = 0.2
    """Probability of a uniformly random action while remapping (the reference acts greedily with
    probability 0.8)."""
    arn_lr: float = 2e-3
    """Adam learning rate of the ARN (the reference's policy_lr)."""
    arn_batch_size: int = 32
    """Remapped steps per ARN update, drawn from the replay."""
    arn_updates_per_step: float = 1.0
    """ARN updates per environment interaction (the reference does one after every step)."""
    replay_capacity: int = 50_000
    """Remapped steps kept (the reference's deque holds 50,000)."""
    remap_space: str = "auto"
    """Where the closest latent action is measured: "state" (||s_hat'_z - s'||, the reference for
    vectors), "encoding" (||E(s_hat'_z) - E(s')|| with the LPN encoder, the reference for images
    and the paper's algorithm) or "auto" (state for vectors, encoding for images)."""
    num_workers: int = 1
    """Rollout workers of the ARN phase."""
    envs_per_worker: int = 1
    """Environments per rollout worker. With 1, every chunk is exactly chunk_steps interactions."""
    eval_every: int = 100
    """Interactions between greedy evaluations recorded in the learning curve."""
    eval_episodes: int = 10
    """Greedy episodes per curve point."""
    lpn_log_every: int = 500
    """LPN steps per learner call (losses logged and a checkpoint written after each)."""
    diagnose_episodes: int = 3
    """Greedy episodes after training whose states the diagnostics (result.json metrics diag_*)
    compare with the demonstrations; not interactions. 0: no state diagnostics."""
    sampling: str = "sync"
    """Phase 2: "sync" gathers chunk_steps interactions, then the ARN updates on them, then the
    workers get the new weights (the tuned protocol). "async" (lfo_ray.sampling): the workers
    sample the next chunk while the ARN updates on this one, pushing straight into the replay; same
    budget and updates per interaction, but on Ray no longer reproducible to the bit."""
    max_policy_lag: int = 1
    """sampling=async: no interaction reaches the replay more than this many ARN weight versions
    stale (TensorBoard charts/policy_lag)."""
    device: str | None = None
    """Torch device of the learner (LPN, ARN, remapping); None/"auto" picks CUDA where the cluster
    has a GPU (and asks Ray for one only then), else CPU. The acting policies stay on CPU."""

    def __post_init__(self) -> None:
        if self.n_latent < 0 or self.n_latent == 1:
            raise ValueError(f"n_latent must be 0 (as many as real actions) or >= 2, got {self.n_latent}")
        positive = ("hidden", "conv_channels", "lpn_batch_size", "demo_buffer_rows", "interaction_budget", "chunk_steps",
                    "arn_batch_size", "replay_capacity", "num_workers", "envs_per_worker",
                    "eval_every", "eval_episodes", "lpn_log_every")
        bad = {name: getattr(self, name) for name in positive if getattr(self, name) < 1}
        if bad:
            raise ValueError(f"these fields must be >= 1: {bad}")
        if self.lpn_steps < 0 or self.diagnose_episodes < 0:
            raise ValueError(f"lpn_steps and diagnose_episodes must be >= 0, got {self.lpn_steps}, "
                             f"{self.diagnose_episodes}")
        if self.lpn_lr <= 0 or self.lpn_lr_final < 0 or self.arn_lr <= 0 or not 0 <= self.lpn_beta1 < 1:
            raise ValueError(f"need lpn_lr > 0, arn_lr > 0, 0 <= lpn_beta1 < 1; got {self.lpn_lr}, "
                             f"{self.arn_lr}, {self.lpn_beta1}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be a probability, got {self.epsilon}")
        if self.arn_updates_per_step < 0:
            raise ValueError(f"arn_updates_per_step must be >= 0, got {self.arn_updates_per_step}")
        if self.policy_term not in POLICY_TERMS:
            raise ValueError(f"policy_term must be one of {POLICY_TERMS}, got {self.policy_term!r}")
        if self.remap_space not in REMAP_SPACES:
            raise ValueError(f"remap_space must be one of {REMAP_SPACES}, got {self.remap_space!r}")
        if self.sampling not in SAMPLING:
            raise ValueError(f"sampling must be one of {SAMPLING}, got {self.sampling!r}")
        if self.max_policy_lag < 0:
            raise ValueError(f"max_policy_lag must be >= 0, got {self.max_policy_lag}")
        envs = self.num_workers * self.envs_per_worker
        # Workers step whole vector steps, so only multiples of the env count split exactly.
        if self.chunk_steps % envs or self.interaction_budget % envs:
            raise ValueError(
                f"chunk_steps ({self.chunk_steps}) and interaction_budget ({self.interaction_budget}) "
                f"must be multiples of num_workers * envs_per_worker ({envs}) to spend the budget exactly"
            )
