"""RLlib configs of the learned-reward family: PPOConfig plus the reward model's settings.

    config = GAIfOConfig().environment("CartPole-v1")            # demos default to the shipped set
    config.imitation(demos="lfo_ray/demos/CartPole-v1.parquet", disc_lr=1e-3)
    algo = config.build(); algo.train()

`imitation()` takes the reward settings of the native config (`lfo list gaifo`): the reward model's
own fields and reward_offset, reward_norm, reward_steps, reward_batch_size; PPO and runtime settings
are RLlib's (`.training()`, `.env_runners()`, `.learners()`). The defaults below match the native
PPO's (lfo_ray.algorithms.learned_reward.config), so both paths start from the same hyperparameters,
and the native per-environment reward presets apply unless overridden.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ray.rllib.algorithms.algorithm_config import NotProvided
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from lfo_ray.algorithms.learned_reward.presets import preset
from lfo_ray.demos import resolve_demos
from lfo_ray.rllib.module import REWARD_MODULE_ID, RewardModule, imitation_config, reward_settings_fields


class ImitationPPOConfig(PPOConfig):
    """PPOConfig whose RLModule is a MultiRLModule: the policy and the learner-only reward model."""

    reward_model: ClassVar[str] = ""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class)
        self.demos: str | None = None
        """Demonstrations (a path or a shipped set's name); None: the shipped set named like the env."""
        self.reward_settings: dict[str, Any] = {}
        """Native config fields of the reward model set through `imitation()`."""
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

    def imitation(self, *, demos: str | None = NotProvided, **settings: Any) -> "ImitationPPOConfig":
        """Sets the demonstrations and reward settings (validated by the native config class)."""
        allowed = reward_settings_fields(self.reward_model)
        unknown = sorted(set(settings) - allowed)
        if unknown:
            raise ValueError(f"{self.reward_model}: unknown reward settings {unknown}; expected some of "
                             f"{sorted(allowed)} (PPO and runtime settings go to .training(), .env_runners())")
        imitation_config(self.reward_model, {**self.reward_settings, **settings})
        self.reward_settings.update(settings)
        if demos is not NotProvided:
            self.demos = None if demos is None else str(demos)
        return self

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

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        # The native ActorCritic: separate tanh MLPs for the policy and the value function.
        return RLModuleSpec(module_class=DefaultPPOTorchRLModule, model_config=DefaultModelConfig(
            fcnet_hiddens=[64, 64], fcnet_activation="tanh", vf_share_layers=False))

    def reward_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=RewardModule, learner_only=True, model_config={
            "reward_model": self.reward_model, "settings": self.resolved_settings(),
            "demos": self.resolved_demos(), "seed": self.seed, "normalized_actions": self.normalize_actions})

    def get_default_learner_class(self) -> type:
        from lfo_ray.rllib.learner import ImitationPPOLearner

        return ImitationPPOLearner

    def validate(self) -> None:
        if self.num_learners > 1:
            raise ValueError(f"{self.reward_model}: num_learners must be 0 or 1, got {self.num_learners} "
                             "(each learner would train its own reward model)")
        imitation_config(self.reward_model, self.resolved_settings())
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
