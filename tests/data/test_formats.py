"""Format detection and import_path: the entry point `lfo data import` uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lfo_ray.data.formats import FORMATS, detect_format, import_path
from lfo_ray.data.ilpo_text import write_ilpo_text
from lfo_ray.data.parquet import read_dataset, write_dataset
from lfo_ray.data.types import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def test_formats_tuple():
    assert FORMATS == ("parquet", "ilpo-text", "image-pairs", "tutorial-pickle", "minari", "video")


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("ilpo_text", "ilpo-text"),
        ("ilpo_text/cartpole.txt", "ilpo-text"),
        ("ilpo_text_bc", "ilpo-text"),
        ("image_pairs", "image-pairs"),
        ("image_pairs/0.png", "image-pairs"),
        ("tutorial", "tutorial-pickle"),
        ("tutorial_numpy1.pkl", "tutorial-pickle"),
    ],
)
def test_detects_fixtures(path, fmt):
    assert detect_format(FIXTURES / path) == fmt


@pytest.mark.parametrize(
    "source, fmt",
    [
        ("ilpo_text/cartpole.txt", "ilpo-text"),
        ("image_pairs/0.png", "image-pairs"),
        ("tutorial/ckpt0.pkl", "tutorial-pickle"),
    ],
)
def test_detects_by_content_without_extension(tmp_path, source, fmt):
    shutil.copy(FIXTURES / source, tmp_path / "data")
    assert detect_format(tmp_path / "data") == fmt


def test_detects_parquet_with_and_without_extension(tmp_path):
    dataset = import_path(FIXTURES / "tutorial")
    write_dataset(dataset, tmp_path / "demo.parquet")
    shutil.copy(tmp_path / "demo.parquet", tmp_path / "demo")
    assert detect_format(tmp_path / "demo.parquet") == "parquet"
    assert detect_format(tmp_path / "demo") == "parquet"
    assert len(import_path(tmp_path / "demo")) == 3


def test_unrecognised_file(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match=rf"{tmp_path}/data.bin: unrecognised demonstration format; "
                                        r"expected one of \*.parquet \(parquet\), \*.txt \(ilpo-text\)"):
        detect_format(tmp_path / "data.bin")


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/absent: no such file or directory"):
        detect_format(tmp_path / "absent")
    with pytest.raises(DataError, match=rf"{tmp_path}/absent: no such file or directory"):
        import_path(tmp_path / "absent")


def test_directory_with_stray_file_of_another_kind(tmp_path):
    for name in ("0.txt", "1.txt"):
        shutil.copy(FIXTURES / "ilpo_text" / "cartpole.txt", tmp_path / name)
    shutil.copy(FIXTURES / "image_pairs" / "0.png", tmp_path / "frame.png")
    with pytest.raises(DataError) as error:
        detect_format(tmp_path)
    assert str(error.value) == (
        f"{tmp_path}: stray file 'frame.png' (1 in all) in a ilpo-text directory; "
        "expected only *.txt files"
    )


def test_directory_with_unknown_stray_file_and_subdirectory(tmp_path):
    shutil.copy(FIXTURES / "image_pairs" / "0.png", tmp_path / "0.png")
    (tmp_path / "README").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / ".DS_Store").write_text("ignored")
    with pytest.raises(DataError, match=rf"{tmp_path}: stray file 'README' \(2 in all\) in a "
                                        r"image-pairs directory; expected only \*.png files"):
        detect_format(tmp_path)
    (tmp_path / "README").unlink()
    with pytest.raises(DataError, match=r"stray directory 'sub' \(1 in all\)"):
        detect_format(tmp_path)
    (tmp_path / "sub").rmdir()
    assert detect_format(tmp_path) == "image-pairs"


def test_directory_mixing_two_kinds_equally(tmp_path):
    shutil.copy(FIXTURES / "ilpo_text" / "cartpole.txt", tmp_path / "0.txt")
    shutil.copy(FIXTURES / "image_pairs" / "0.png", tmp_path / "0.png")
    with pytest.raises(DataError, match=rf"{tmp_path}: mixes \*.txt and \*.png files \(e.g. '0.txt' "
                                        r"and '0.png'\); expected one kind"):
        detect_format(tmp_path)


def test_empty_or_unknown_directory(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}: holds nothing; expected a directory of \*.txt"):
        detect_format(tmp_path)
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(DataError, match=rf"{tmp_path}: holds stray entry 'notes.md'; expected"):
        detect_format(tmp_path)


def test_parquet_directory_is_refused(tmp_path):
    write_dataset(import_path(FIXTURES / "tutorial"), tmp_path / "a.parquet")
    with pytest.raises(DataError, match=rf"{tmp_path}: holds stray entry 'a.parquet'"):
        import_path(tmp_path)
    with pytest.raises(DataError, match=rf"{tmp_path}: is a directory, expected a Parquet file"):
        import_path(tmp_path, fmt="parquet")


def test_unknown_format_name():
    with pytest.raises(DataError, match="unknown format 'csv'; expected one of parquet, ilpo-text, "
                                        "image-pairs, tutorial-pickle"):
        import_path(FIXTURES / "tutorial", fmt="csv")


def test_explicit_format_overrides_detection(tmp_path):
    shutil.copy(FIXTURES / "ilpo_text" / "cartpole.txt", tmp_path / "demo.log")
    assert len(import_path(tmp_path / "demo.log", fmt="ilpo-text")) == 2
    with pytest.raises(DataError, match=rf"{tmp_path}/demo.log: not a readable pickle"):
        import_path(tmp_path / "demo.log", fmt="tutorial-pickle")


@pytest.mark.parametrize(
    "path, env_id, episodes",
    [
        ("ilpo_text", "CartPole-v1", 2),
        ("image_pairs", "lfo_ray/GridWorld-v0", 2),
        ("tutorial", None, 3),
    ],
)
def test_every_importer_round_trips_through_parquet(tmp_path, path, env_id, episodes):
    dataset = import_path(FIXTURES / path, env_id=env_id)
    assert len(dataset) == episodes
    back = read_dataset(write_dataset(dataset, tmp_path / "demo.parquet"))
    assert back.metadata == dataset.metadata
    for a, b in zip(dataset.episodes, back.episodes):
        assert a.observations.dtype == b.observations.dtype
        np.testing.assert_array_equal(a.observations, b.observations)
        assert (a.terminated, a.truncated) == (b.terminated, b.truncated)


def test_env_id_fills_spaces_from_gymnasium():
    dataset = import_path(FIXTURES / "ilpo_text_bc", env_id="CartPole-v1")
    assert dataset.metadata.env_id == "CartPole-v1"
    assert dataset.metadata.observation_space["shape"] == [4]
    assert dataset.metadata.observation_space["low"][0] == pytest.approx(4.8 * -1, rel=1e-6)
    assert dataset.metadata.action_space == {"type": "Discrete", "n": 2, "start": 0}


def test_image_pairs_keep_their_observation_space():
    dataset = import_path(FIXTURES / "image_pairs", env_id="CartPole-v1")
    assert dataset.metadata.observation_space["shape"] == [50, 50, 3]
    assert dataset.metadata.action_space == {"type": "Discrete", "n": 2, "start": 0}


def test_unknown_env_id_is_recorded_without_spaces():
    dataset = import_path(FIXTURES / "ilpo_text", env_id="NoSuchEnv-v0")
    assert dataset.metadata.env_id == "NoSuchEnv-v0" and dataset.metadata.action_space is None


def test_env_id_must_fit_the_data(tmp_path):
    with pytest.raises(DataError, match=rf"{FIXTURES / 'ilpo_text'}: observations have shape \(4,\), "
                                        r"but Acrobot-v1 observations have shape \(6,\)"):
        import_path(FIXTURES / "ilpo_text", env_id="Acrobot-v1")
    with pytest.raises(DataError, match=r"recorded for environment 'lfo_ray/GridWorld-v0', not 'CartPole-v1'"):
        import_path(FIXTURES / "tutorial", env_id="CartPole-v1")
    path = tmp_path / "actions.txt"
    path.write_text("[0.1,0.2,0.3,0.4] [3] [0.2,0.3,0.4,0.5]\n")
    with pytest.raises(DataError, match=rf"{path}: actions .* do not fit CartPole-v1's action space "
                                        r"Discrete\(2\); expected integers in 0..1"):
        import_path(path, env_id="CartPole-v1")


def test_cli_export_path_round_trip(tmp_path):
    """import_path -> write_ilpo_text -> import_path, as `lfo data import/export` chain them."""
    dataset = import_path(FIXTURES / "ilpo_text_bc", env_id="CartPole-v1")
    write_ilpo_text(dataset, tmp_path / "out.txt", with_actions=True)
    back = import_path(tmp_path / "out.txt", env_id="CartPole-v1")
    for a, b in zip(dataset.episodes, back.episodes):
        np.testing.assert_array_equal(a.observations, b.observations)
        np.testing.assert_array_equal(a.actions, b.actions)
