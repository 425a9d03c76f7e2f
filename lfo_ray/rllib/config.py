"""RLlib configs of the learned-reward family: PPOConfig or SACConfig plus the reward model's settings.

    config = GAIfOConfig().environment("CartPole-v1")            # demos default to the shipped set
    config.imitation(demos="lfo_ray/demos/CartPole-v1.parquet", disc_lr=1e-3)
    algo = config.build(); algo.train()

    config = GAIfOSACConfig().environment("InvertedPendulum-v5")  # RLlib SAC as the generator

`imitation()` takes the reward settings of the native config (`lfo list gaifo`): the reward model's
own fields and reward_offset, reward_norm, reward_steps, reward_batch_size; RL and runtime settings
are RLlib's (`.training()`, `.env_runners()`, `.learners()`). The native config's `rl` field is the
choice of class: `GAIfOConfig` (rl="ppo") or `GAIfOSACConfig` (rl="sac", Box actions); both take the
reward-model half from `ImitationMixin`. The defaults below match the native PPO's and SAC's
(lfo_ray.algorithms.learned_reward.config), so both paths start from the same hyperparameters, and
the native per-environment reward presets apply unless overridden.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ray.rllib.algorithms.algorithm_config import NotProvided
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from lfo_ray.algorithms.learned_reward.presets import preset
from lfo_ray.demos import resolve_demos
from lfo_ray.rllib.module import (
    NATIVE_ONLY,
    REWARD_MODULE_ID,
    RewardModule,
    imitation_config,
    reward_settings_fields,
)


class ImitationMixin:
    """The reward-model half of an imitation config, mixed in before an RLlib AlgorithmConfig: its
    RLModule becomes a MultiRLModule of the policy and the learner-only reward model."""

    reward_model: ClassVar[str] = ""
    rl: ClassVar[str] = ""
    """The generator, as the native config's `rl` field: "ppo" or "sac"; fixed by the class."""

    def _init_imitation(self) -> None:
        self.demos: str | None = None
        """Demonstrations (a path or a shipped set's name); None: the shipped set named like the env."""
        self.reward_settings: dict[str, Any] = {}
        """Native config fields of the reward model set through `imitation()`."""

    def imitation(self, *, demos: str | None = NotProvided, **settings: Any) -> "ImitationMixin":
        """Sets the demonstrations and reward settings (validated by the native config class)."""
        native_only = sorted(set(settings) & NATIVE_ONLY)
        if native_only:
            raise ValueError(f"{self.reward_model}: {native_only} are not implemented on the RLlib algorithms; "
                             f"the native runtime has them (lfo train {self.reward_model} --set absorbing=true)")
        allowed = reward_settings_fields(self.reward_model)
        unknown = sorted(set(settings) - allowed)
        if unknown:
            raise ValueError(f"{self.reward_model}: unknown reward settings {unknown}; expected some of "
                             f"{sorted(allowed)} (RL and runtime settings go to .training(), .env_runners())")
        self.check_settings({**self.reward_settings, **settings})
        self.reward_settings.update(settings)
        if demos is not NotProvided:
            self.demos = None if demos is None else str(demos)
        return self

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Raises ValueError unless the native config (with this generator) accepts `settings`."""
        imitation_config(self.reward_model, settings, self.rl)

    def resolved_settings(self) -> dict[str, Any]:
        """The native preset of this env (its reward fields), then the user's settings."""
        env_preset = preset(self.reward_model, self.env) if isinstance(self.env, str) else {}
        allowed = reward_settings_fields(self.reward_model)
        return {**{k: v for k, v in env_preset.items() if k in allowed}, **self.reward_settings}

    def resolved_demos(self) -> str:
        if self.demos is None:
            if not isinstance(self.env, str):
                raise ValueError(f"{self.reward_model}: set .imitation(demos=...) (no shipped demonstrations "
                                 f"are named after env {self.env!r})")
            return str(resolve_demos(self.env.split("/")[-1]).resolve())      # lfo_ray/GridWorld-v0 -> GridWorld-v0
        return str(resolve_demos(self.demos).resolve())

    def reward_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=RewardModule, learner_only=True, model_config={
            "reward_model": self.reward_model, "rl": self.rl, "settings": self.resolved_settings(),
            "demos": self.resolved_demos(), "seed": self.seed, "normalized_actions": self.normalize_actions})

    def validate(self) -> None:
        if self.num_learners > 1:
            raise ValueError(f"{self.reward_model}: num_learners must be 0 or 1, got {self.num_learners} "
                             "(each learner would train its own reward model)")
        self.check_settings(self.resolved_settings())
        # The policy (the default spec, updated by the user's .rl_module()) and the reward model,
        # built on learners only; rebuilt at every validate() (which runs before build) so that it
        # follows the env, the demonstrations and the reward settings as they are then.
        if not self._is_frozen:
            spec = self._rl_module_spec
            if isinstance(spec, MultiRLModuleSpec) and DEFAULT_MODULE_ID in spec.rl_module_specs:
                policy = spec.rl_module_specs[DEFAULT_MODULE_ID]
            else:
                policy = self.get_default_rl_module_spec()
                if spec is not None:
                    policy.update(spec, override=True)
            self._rl_module_spec = MultiRLModuleSpec(rl_module_specs={
                DEFAULT_MODULE_ID: policy, REWARD_MODULE_ID: self.reward_module_spec()})
        super().validate()


class ImitationPPOConfig(ImitationMixin, PPOConfig):
    """rl="ppo": RLlib PPO; the learned reward replaces the env's before GAE (Discrete or Box actions)."""

    rl: ClassVar[str] = "ppo"

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class)
        self._init_imitation()
        # The native runtime's PPO defaults: 8 envs x 64 steps per iteration, 10 epochs of 256 rows.
        self.lr = 1e-3
        self.gamma = 0.99
        self.lambda_ = 0.8
        self.num_epochs = 10
        self.minibatch_size = 256
        self.train_batch_size_per_learner = 512
        self.entropy_coeff = 0.01
        self.vf_loss_coeff = 0.5
        self.clip_param = 0.2
        self.grad_clip = 0.5
        self.use_kl_loss = False
        self.num_env_runners = 1
        self.num_envs_per_env_runner = 8

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        # The native ActorCritic: separate tanh MLPs for the policy and the value function.
        return RLModuleSpec(module_class=DefaultPPOTorchRLModule, model_config=DefaultModelConfig(
            fcnet_hiddens=[64, 64], fcnet_activation="tanh", vf_share_layers=False))

    def get_default_learner_class(self) -> type:
        from lfo_ray.rllib.learner import ImitationPPOLearner

        return ImitationPPOLearner


class ImitationSACConfig(ImitationMixin, SACConfig):
    """rl="sac": RLlib SAC on Box actions. Every batch SAC samples from its replay is relabelled with
    the current reward model before the critic loss (DAC, OPOLO, the native `rl=sac`), and the
    reward model trains on those sampled batches and the demonstrations, `reward_steps` steps every
    `reward_every` env steps."""

    rl: ClassVar[str] = "sac"

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class)
        self._init_imitation()
        self.reward_every = 512
        """Env steps between reward-model trainings (`reward_steps` steps each, at most one training per
        SAC update); 512 is the native SAC's iteration (1 worker x 8 envs x 64 steps)."""
        # The native SAC's defaults: relu 256x256 actor and critics, one lr of 3e-4, batches of 256,
        # a uniform 1M-transition replay, 5000 env steps before the first update, 8 envs stepped
        # together and one update per env step (utd_ratio 1). RLlib's training_intensity counts
        # replayed rows per sampled env step: keep it at train_batch_size_per_learner x utd_ratio.
        self.actor_lr = 3e-4
        self.critic_lr = 3e-4
        self.alpha_lr = 3e-4
        self.gamma = 0.99
        self.tau = 0.005
        self.initial_alpha = 1.0
        self.train_batch_size_per_learner = 256
        self.num_steps_sampled_before_learning_starts = 5000
        self.replay_buffer_config = {"type": "EpisodeReplayBuffer", "capacity": 1_000_000}
        self.num_envs_per_env_runner = 8
        self.training_intensity = 256

    def imitation(self, *, demos: str | None = NotProvided, reward_every: int = NotProvided,
                  **settings: Any) -> "ImitationSACConfig":
        """`imitation()` of the mixin, and `reward_every` (env steps between reward-model trainings)."""
        if reward_every is not NotProvided and (not isinstance(reward_every, int) or reward_every < 1):
            raise ValueError(f"{self.reward_model}: reward_every must be an int >= 1, got {reward_every!r}")
        super().imitation(demos=demos, **settings)
        if reward_every is not NotProvided:
            self.reward_every = reward_every
        return self

    def check_settings(self, settings: dict[str, Any]) -> None:
        super().check_settings(settings)
        if settings.get("reward_norm", "none") != "none":
            raise ValueError(f"{self.reward_model}: with SAC the relabelled reward is the reward model's own "
                             f"(+ reward_offset), as in the native rl=sac: reward_norm must be 'none', got "
                             f"{settings['reward_norm']!r}")

    def resolved_settings(self) -> dict[str, Any]:
        return {"reward_norm": "none", **super().resolved_settings()}

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=DefaultSACTorchRLModule, model_config=DefaultModelConfig(
            fcnet_hiddens=[256, 256], fcnet_activation="relu", head_fcnet_hiddens=[]))

    def get_default_learner_class(self) -> type:
        from lfo_ray.rllib.learner import ImitationSACLearner

        return ImitationSACLearner

    def validate(self) -> None:
        # A replay sample of n > 1 steps holds (s_t, s_t+n) and an n-step return: nothing a per-step
        # reward model can score.
        if self.n_step != 1:
            raise ValueError(f"{self.reward_model}: SAC's n_step must be 1 to relabel replayed transitions, "
                             f"got {self.n_step}")
        super().validate()


class GAILConfig(ImitationPPOConfig):
    reward_model: ClassVar[str] = "gail"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import GAIL

        super().__init__(algo_class=algo_class or GAIL)


class GAIfOConfig(ImitationPPOConfig):
    reward_model: ClassVar[str] = "gaifo"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import GAIfO

        super().__init__(algo_class=algo_class or GAIfO)


class IMRLConfig(ImitationPPOConfig):
    reward_model: ClassVar[str] = "imrl"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import IMRL

        super().__init__(algo_class=algo_class or IMRL)


class PMIILConfig(ImitationPPOConfig):
    reward_model: ClassVar[str] = "pmi_il"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import PMIIL

        super().__init__(algo_class=algo_class or PMIIL)


class GAILSACConfig(ImitationSACConfig):
    reward_model: ClassVar[str] = "gail"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import GAILSAC

        super().__init__(algo_class=algo_class or GAILSAC)


class GAIfOSACConfig(ImitationSACConfig):
    reward_model: ClassVar[str] = "gaifo"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import GAIfOSAC

        super().__init__(algo_class=algo_class or GAIfOSAC)


class IMRLSACConfig(ImitationSACConfig):
    reward_model: ClassVar[str] = "imrl"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import IMRLSAC

        super().__init__(algo_class=algo_class or IMRLSAC)


class PMIILSACConfig(ImitationSACConfig):
    reward_model: ClassVar[str] = "pmi_il"

    def __init__(self, algo_class: type | None = None) -> None:
        from lfo_ray.rllib.algorithms import PMIILSAC

        super().__init__(algo_class=algo_class or PMIILSAC)
