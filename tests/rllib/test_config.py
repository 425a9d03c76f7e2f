"""RLlib configs: reward settings checked by the native config classes, the MultiRLModule spec."""

from __future__ import annotations

import pytest

pytest.importorskip("ray.rllib")

from ray.rllib.core import DEFAULT_MODULE_ID  # noqa: E402

from lfo_ray.rllib import GAIfOConfig, GAILConfig, PMIILConfig  # noqa: E402
from lfo_ray.rllib.module import REWARD_MODULE_ID, RewardModule  # noqa: E402


def test_reward_settings_are_validated_by_the_native_config():
    with pytest.raises(ValueError, match="disc_reward"):
        GAIfOConfig().imitation(disc_reward="nope")
    with pytest.raises(ValueError, match="unknown reward settings.*'lr'"):
        GAIfOConfig().imitation(lr=1e-3)
    with pytest.raises(ValueError, match="gaifo_input"):
        GAILConfig().imitation(gaifo_input="delta")
    # a native-only switch is refused by name, never silently ignored
    with pytest.raises(ValueError, match=r"\['absorbing'\] are not implemented on the RLlib"):
        GAIfOConfig().imitation(absorbing=True)


def test_module_spec_follows_env_demos_presets_and_settings():
    config = PMIILConfig().environment("CartPole-v1").debugging(seed=3)
    config.validate()
    spec = config._rl_module_spec
    reward = spec.rl_module_specs[REWARD_MODULE_ID]
    assert reward.learner_only and reward.module_class is RewardModule
    assert not spec.rl_module_specs[DEFAULT_MODULE_ID].learner_only
    assert reward.model_config["demos"].endswith("CartPole-v1.parquet") and reward.model_config["seed"] == 3
    assert reward.model_config["settings"]["pretrain_steps"] == 3000        # the native CartPole preset
    config.imitation(pretrain_steps=10, demos="CartPole-v1-noise0.25")
    config.validate()
    reward = config._rl_module_spec.rl_module_specs[REWARD_MODULE_ID]
    assert reward.model_config["settings"]["pretrain_steps"] == 10
    assert reward.model_config["demos"].endswith("CartPole-v1-noise0.25.parquet")


def test_more_than_one_learner_is_refused():
    with pytest.raises(ValueError, match="num_learners must be 0 or 1"):
        GAIfOConfig().environment("CartPole-v1").learners(num_learners=2).validate()


def test_sac_config_spec_defaults_and_refusals():
    from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule

    from lfo_ray.rllib import GAIfOSACConfig, IMRLSACConfig

    config = IMRLSACConfig().environment("InvertedPendulum-v5")
    config.validate()
    specs = config._rl_module_spec.rl_module_specs
    assert specs[DEFAULT_MODULE_ID].module_class is DefaultSACTorchRLModule
    reward = specs[REWARD_MODULE_ID].model_config
    assert reward["rl"] == "sac" and reward["settings"] == {"reward_norm": "none", "reward_offset": 1.0}  # preset
    assert config.actor_lr == config.critic_lr == config.alpha_lr == 3e-4                  # the native sac_lr
    with pytest.raises(ValueError, match="reward_norm must be 'none'"):
        GAIfOSACConfig().imitation(reward_norm="scale")
    with pytest.raises(ValueError, match="reward_every must be an int >= 1"):
        GAIfOSACConfig().imitation(reward_every=0)
    with pytest.raises(ValueError, match="n_step must be 1"):
        GAIfOSACConfig().environment("InvertedPendulum-v5").training(n_step=3).validate()
