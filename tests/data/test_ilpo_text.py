"""The ILPO reference's vector text format: reading its real files, writing, and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lfo_ray.data.ilpo_text import read_ilpo_text, write_ilpo_text
from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = np.load(FIXTURES / "expected_cartpole.npz")


def test_reads_reference_observation_only_file():
    dataset = read_ilpo_text(FIXTURES / "ilpo_text" / "cartpole.txt", env_id="CartPole-v1")
    assert [len(e) for e in dataset.episodes] == [4, 3]
    for i, ep in enumerate(dataset.episodes):
        assert ep.observations.dtype == np.float32
        np.testing.assert_array_equal(ep.observations, EXPECTED[f"obs{i}"])
        assert ep.truncated and not ep.terminated and ep.actions is None and ep.rewards is None
    meta = dataset.metadata
    assert meta.env_id == "CartPole-v1" and meta.source == "import:ilpo-text"
    assert meta.observation_space["shape"] == [4] and meta.return_mean is None


def test_reads_reference_file_with_actions():
    dataset = read_ilpo_text(FIXTURES / "ilpo_text_bc")
    assert dataset.has_actions
    for i, ep in enumerate(dataset.episodes):
        assert ep.actions.dtype == np.int64 and ep.actions.shape == (len(ep),)
        np.testing.assert_array_equal(ep.actions, EXPECTED[f"actions{i}"])
        np.testing.assert_array_equal(ep.observations, EXPECTED[f"obs{i}"])


def test_directory_reads_files_in_numeric_order_each_starting_an_episode(tmp_path):
    lines = (FIXTURES / "ilpo_text" / "cartpole.txt").read_text().splitlines(keepends=True)
    (tmp_path / "10.txt").write_text("".join(lines[4:]))
    (tmp_path / "2.txt").write_text("".join(lines[:2]))
    (tmp_path / "3.txt").write_text("".join(lines[2:4]))
    dataset = read_ilpo_text(tmp_path)
    assert [len(e) for e in dataset.episodes] == [2, 2, 3]
    np.testing.assert_array_equal(dataset.episodes[0].observations[0], EXPECTED["obs0"][0])
    np.testing.assert_array_equal(dataset.episodes[2].observations[-1], EXPECTED["obs1"][-1])
    assert dataset.metadata.extra["files"] == 3


def test_tolerates_spaces_blank_lines_and_exponents(tmp_path):
    path = tmp_path / "demo.txt"
    path.write_text("  [1e-05, -2.5E+3]   [2,3]\r\n\n[2,3] [4,,5]\n\n")
    dataset = read_ilpo_text(path)
    expected = np.array([[1e-05, -2500], [2, 3], [4, 5]], np.float32)
    np.testing.assert_array_equal(dataset.episodes[0].observations, expected)


def test_float_actions_become_vectors(tmp_path):
    path = tmp_path / "pendulum.txt"
    path.write_text("[0.1,0.2,0.3] [0.5] [0.2,0.3,0.4]\n[0.2,0.3,0.4] [-1.5] [0.9,0.1,0.2]\n")
    dataset = read_ilpo_text(path)
    assert dataset.episodes[0].actions.dtype == np.float32
    np.testing.assert_array_equal(dataset.episodes[0].actions, [[0.5], [-1.5]])


def dataset_of(episodes, actions: bool = True) -> ObsDataset:
    return ObsDataset(tuple(
        ObsEpisode(np.asarray(obs, np.float32), np.arange(len(obs) - 1) % 2 if actions else None)
        for obs in episodes
    ), DatasetMetadata(env_id="CartPole-v1"))


@pytest.mark.parametrize("with_actions", [False, True])
def test_write_read_round_trip(tmp_path, with_actions):
    rng = np.random.default_rng(0)
    original = dataset_of([rng.normal(size=(5, 4)), rng.normal(size=(2, 4)) * 1e-8, rng.normal(size=(3, 4)) * 1e30])
    path = write_ilpo_text(original, tmp_path / "out" / "demo.txt", with_actions=with_actions)
    assert [p.name for p in path.parent.iterdir()] == ["demo.txt"]
    lines = path.read_text().splitlines()
    assert len(lines) == original.num_transitions
    assert len(lines[0].split(" ")) == (3 if with_actions else 2) and " " not in lines[0].split("] [")[0]
    back = read_ilpo_text(path)
    assert len(back) == 3
    for a, b in zip(original.episodes, back.episodes):
        np.testing.assert_array_equal(a.observations, b.observations)
        if with_actions:
            np.testing.assert_array_equal(a.actions, b.actions)
        else:
            assert b.actions is None


def test_reference_fixture_survives_write_and_read(tmp_path):
    original = read_ilpo_text(FIXTURES / "ilpo_text_bc" / "cartpole_bc.txt")
    write_ilpo_text(original, tmp_path / "copy.txt", with_actions=True)
    reference = (FIXTURES / "ilpo_text_bc" / "cartpole_bc.txt").read_text()
    assert (tmp_path / "copy.txt").read_text() == reference


def test_write_scalar_observations(tmp_path):
    grid = ObsDataset((ObsEpisode(np.array([1, 2, 3]), np.array([3, 3])),), DatasetMetadata(env_id=""))
    path = write_ilpo_text(grid, tmp_path / "grid.txt", with_actions=True)
    assert path.read_text() == "[1] [3] [2]\n[2] [3] [3]\n"


def test_write_refuses_what_the_format_cannot_hold(tmp_path):
    images = ObsDataset((ObsEpisode(np.zeros((2, 4, 4, 3), np.uint8)),), DatasetMetadata(env_id=""))
    with pytest.raises(DataError, match=r"shape \(4, 4, 3\) cannot be written as ILPO vectors"):
        write_ilpo_text(images, tmp_path / "x.txt")
    with pytest.raises(DataError, match="has no actions; expected with_actions=False"):
        write_ilpo_text(dataset_of([np.zeros((2, 4))], actions=False), tmp_path / "x.txt", with_actions=True)
    with pytest.raises(DataError, match=rf"{tmp_path}: is a directory"):
        write_ilpo_text(dataset_of([np.zeros((2, 4))]), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    path = write_ilpo_text(dataset_of([np.zeros((2, 4))]), tmp_path / "demo.txt")
    before = path.read_text()

    def crash(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", crash)
    with pytest.raises(OSError, match="disk full"):
        write_ilpo_text(dataset_of([np.ones((3, 4))]), path)
    monkeypatch.undo()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo.txt"]


def read_error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "bad.txt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DataError) as error:
        read_ilpo_text(path)
    message = str(error.value)
    assert message.startswith(f"{path}")
    return message


GOOD = "[0.1,0.2] [0.3,0.4]\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD + "[0.3,0.4]\n", "line 2: found 1 bracketed vector(s); expected '[s] [s']' or '[s] [a] [s']'"),
        (GOOD + "0.3,0.4 0.5,0.6\n", "line 2, column 1: expected '[s] [s']'"),
        (GOOD + "[0.3,0.4] [0.5,0.6] junk\n", "line 2, column 21: expected '[s] [s']'"),
        (GOOD + "[0.3,0.4][0.5,0.6]\n", "line 2, column 10: expected '[s] [s']'"),
        (GOOD + "[0.3,0.4 [0.5,0.6]\n", "line 2, column 1: expected '[s] [s']'"),
        (GOOD + "[0.3,0.4] [1] [0.5,0.6] [0.7,0.8]\n", "line 2: found 4 bracketed vector(s)"),
        (GOOD + "[0.3,abc] [0.5,0.6]\n", "line 2, column 6: expected a number, found 'abc'"),
        (GOOD + "[0.3,0.4] [0.5,np.float32(0.6)]\n", "line 2, column 16: expected a number, found 'np.float32(0.6)'"),
        (GOOD + "[0.3,0.4] [0.5,nan]\n", "line 2, column 16: 'nan' is not finite; expected a finite number"),
        (GOOD + "[inf,0.4] [0.5,0.6]\n", "line 2, column 2: 'inf' is not finite"),
        (GOOD + "[0.3,0.4] [0.5,1e39]\n", "line 2: next state does not fit float32"),
        (GOOD + "[0.3,0.4] []\n", "line 2, column 11: empty vector '[]'; expected numbers"),
        (GOOD + "[0.3,0.4,0.5] [0.5,0.6,0.7]\n", "line 2, column 1: state has 3 value(s), expected 2 like"),
        (GOOD + "[0.3,0.4] [0.5]\n", "line 2, column 11: next state has 1 value(s), expected 2 like"),
        (GOOD + "[0.3,0.4] [1] [0.5,0.6]\n", "line 2: found '[s] [a] [s']', expected '[s] [s']' like"),
        ("[0.1] [1] [0.2]\n[0.2] [1,0] [0.3]\n", "line 2, column 7: action has 2 value(s), expected 1 like"),
        ("", "empty file; expected lines '[s] [s']'"),
        ("\n  \n", "empty file"),
        (b"[0.1] [0.2]\n\xff\xfe\n", "not UTF-8 text (byte 12); expected ILPO text lines"),
    ],
)
def test_bad_input_names_file_line_and_expectation(tmp_path, text, expected):
    assert expected in read_error(tmp_path, text)


def test_layout_mismatch_across_files_names_both(tmp_path):
    (tmp_path / "0.txt").write_text(GOOD)
    (tmp_path / "1.txt").write_text("[0.3] [0.4]\n")
    with pytest.raises(DataError) as error:
        read_ilpo_text(tmp_path)
    assert str(error.value) == (
        f"{tmp_path / '1.txt'}, line 1, column 1: state has 1 value(s), expected 2 like "
        f"{tmp_path / '0.txt'}, line 1"
    )


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/absent.txt: no such file or directory"):
        read_ilpo_text(tmp_path / "absent.txt")


def test_directory_with_stray_file(tmp_path):
    (tmp_path / "0.txt").write_text(GOOD)
    (tmp_path / "notes.md").write_text("hi")
    (tmp_path / ".hidden").write_text("ignored")
    with pytest.raises(DataError, match=rf"{tmp_path}: stray file 'notes.md' \(1 in all\) in a "
                                        r"ilpo-text directory; expected only \*.txt files"):
        read_ilpo_text(tmp_path)


def test_empty_directory(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}: empty directory; expected \*.txt files"):
        read_ilpo_text(tmp_path)
