"""Smoke tests of the `lfo` entry points, each in a subprocess as a user runs them."""

from lfo_ray.data import read_dataset
from tests.conftest import DEMOS, run_cli


def test_collect_then_inspect(tmp_path):
    out = tmp_path / "grid.parquet"
    result = run_cli("collect", "lfo_ray/GridWorld-v0", "--episodes", "12", "--workers", "2",
                     "--no-ray", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "transitions/s" in result.stdout
    assert len(read_dataset(out)) == 12
    result = run_cli("data", "inspect", str(out))
    assert result.returncode == 0, result.stderr
    assert "lfo_ray/GridWorld-v0" in result.stdout and "episodes:      12" in result.stdout
    assert "mean 10.00" in result.stdout


def test_inspect_shipped_demonstrations():
    result = run_cli("data", "inspect", str(DEMOS / "GridWorld-v0.parquet"))
    assert result.returncode == 0, result.stderr
    assert "expert:value-iteration" in result.stdout


def test_collect_on_local_ray(tmp_path):
    out = tmp_path / "grid.parquet"
    result = run_cli("collect", "lfo_ray/GridWorld-v0", "--episodes", "20", "--workers", "2",
                     "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert len(read_dataset(out)) == 20


def test_errors_name_the_problem(tmp_path):
    result = run_cli("data", "inspect", str(tmp_path / "missing.parquet"))
    assert result.returncode == 2 and "missing.parquet" in result.stderr
    result = run_cli("collect", "NoSuchEnv-v0", "--episodes", "1", "--out", str(tmp_path / "x.parquet"))
    assert result.returncode == 2 and "unknown environment 'NoSuchEnv-v0'" in result.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_list_describes_one_algorithm():
    result = run_cli("list", "dagger")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dagger: DAgger")
    assert "observations and the demonstrator's actions" in lines[1]
    assert "lfo_ray/GridWorld-v0" in lines[2] and "CartPole-v1" in lines[2] and "Hopper-v5" in lines[2]
    # Its own fields and the ones inherited from BCConfig, each with its default and first sentence.
    assert any(line.split() == ["rounds", "=", "8", *line.split()[3:]] for line in lines)
    assert any("lr = 0.003" in line and line.endswith("Adam learning rate.") for line in lines)
    refused = run_cli("list", "maxent_irl")
    assert "envs:         lfo_ray/GridWorld-v0" in refused.stdout
    assert "maxent_irl needs a tabular env such as lfo_ray/GridWorld-v0" in refused.stdout
    ilpo = run_cli("list", "ilpo").stdout.splitlines()
    assert "Hopper-v5" not in ilpo[2] and any("Discrete action" in line for line in ilpo[3:6])


def test_evaluate_names_the_run(tmp_path):
    out = tmp_path / "run"
    trained = run_cli("train", "bc", "--env", "lfo_ray/GridWorld-v0", "--demos", str(DEMOS / "GridWorld-v0.parquet"),
                      "--out", str(out), "--placement", "local", "--quiet", "--set", "train_steps=5",
                      "--eval-episodes", "2")
    assert trained.returncode == 0, trained.stderr
    result = run_cli("evaluate", str(out), "--episodes", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out} (bc on lfo_ray/GridWorld-v0, seed 0): return ")
    assert result.stdout.rstrip().endswith("over 3 episodes")


def test_unsupported_pairs_are_refused_before_any_work(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "ilpo", "--env", "lfo_ray/GridWorld-v0", "--demos", str(DEMOS / "GridWorld-v0.parquet"),
                     "--out", str(out), "--placement", "local")
    assert result.returncode == 2
    assert result.stderr.startswith("lfo: error: ilpo needs Box observations") and result.stderr.count("\n") == 1
    assert not out.exists()


def test_methods_without_continuous_actions_refuse_a_box_action_space_in_one_line(tmp_path):
    from lfo_ray import algorithms
    from lfo_ray.experiment import env_spaces

    expected = {
        "ilpo": "ilpo needs a Discrete action space (its latent actions map to discrete ones), got "
                "Box(-3.0, 3.0, (1,), float32): for continuous actions use bco or gaifo",
        "maxent_irl": "maxent_irl needs a tabular env such as lfo_ray/GridWorld-v0",
    }
    for algo, line in expected.items():
        out = tmp_path / algo
        result = run_cli("train", algo, "--env", "InvertedPendulum-v5", "--demos", str(DEMOS / "CartPole-v1.parquet"),
                         "--out", str(out), "--placement", "local")
        assert result.returncode == 2 and result.stderr == f"lfo: error: {line}\n", result.stderr
        assert not out.exists()
    spaces = env_spaces("InvertedPendulum-v5")
    for algo in ("mce_irl", "relent_irl"):
        assert algorithms.get(algo).supports(*spaces) == f"{algo} needs a tabular env such as lfo_ray/GridWorld-v0"
    for algo in ("bc", "bco", "dagger"):
        assert algorithms.get(algo).supports(*spaces) is None
