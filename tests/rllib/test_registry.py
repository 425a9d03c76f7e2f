"""The RLlib algorithms (PPO and SAC generators) are found by name through Tune, and `import lfo_ray`
does not import RLlib."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO

NAMES = ["lfo_ray/rllib/GAIL", "lfo_ray/rllib/GAIFO", "lfo_ray/rllib/IMRL", "lfo_ray/rllib/PMI_IL"]
SAC_NAMES = [name + "_SAC" for name in NAMES]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def test_get_trainable_cls_finds_the_classes_without_importing_rllib_first():
    result = _python(f"""
        import sys
        import lfo_ray
        assert "ray.rllib" not in sys.modules and "ray.tune" not in sys.modules
        from ray.tune.registry import get_trainable_cls
        classes = [get_trainable_cls(name) for name in {NAMES!r}]
        from lfo_ray.rllib import GAIL, GAIfO, IMRL, PMIIL, GAILSAC, GAIfOSAC, IMRLSAC, PMIILSAC
        assert classes == [GAIL, GAIfO, IMRL, PMIIL], classes
        assert [c.get_default_config().reward_model for c in classes] == ["gail", "gaifo", "imrl", "pmi_il"]
        sac = [get_trainable_cls(name) for name in {SAC_NAMES!r}]
        assert sac == [GAILSAC, GAIfOSAC, IMRLSAC, PMIILSAC], sac
        assert [(c.get_default_config().reward_model, c.get_default_config().rl) for c in sac] == [
            ("gail", "sac"), ("gaifo", "sac"), ("imrl", "sac"), ("pmi_il", "sac")]
        # neither the native trainables nor RLlib's own names are shadowed
        from ray.rllib.algorithms.ppo import PPO
        assert get_trainable_cls("PPO") is PPO
        assert get_trainable_cls("lfo_ray/GAIFO").__name__ != "GAIfO"
        print("ok")
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "could not register" not in result.stderr


def test_registered_when_rllib_was_imported_before_lfo_ray():
    result = _python(f"""
        import ray.rllib
        import lfo_ray
        from ray.tune.registry import _has_trainable
        assert all(_has_trainable(name) for name in {NAMES + SAC_NAMES!r})
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "could not register" not in result.stderr


def test_names_do_not_clash_with_native_trainables():
    from lfo_ray import algorithms
    from lfo_ray.rllib.registry import ALGORITHM_NAMES, trainable_name
    from lfo_ray.tune import trainable_name as native_name

    native = {native_name(algo) for algo in algorithms.names()}
    assert [trainable_name(algo) for algo in ALGORITHM_NAMES] == NAMES
    assert [trainable_name(algo, "sac") for algo in ALGORITHM_NAMES] == SAC_NAMES
    assert not native & set(NAMES + SAC_NAMES)
