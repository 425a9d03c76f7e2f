"""The ILPO reference's pix2pix image pairs: reading, chaining into episodes, writing, bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lfo_ray.data.image_pairs import read_image_pairs, write_image_pairs
from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = np.load(FIXTURES / "expected_image_pairs.npz")


def test_reads_reference_pairs_and_chains_episodes():
    dataset = read_image_pairs(FIXTURES / "image_pairs", env_id="lfo_ray/GridWorld-v0")
    assert [len(e) for e in dataset.episodes] == [2, 1]
    for i, ep in enumerate(dataset.episodes):
        assert ep.observations.dtype == np.uint8 and ep.obs_shape == (50, 50, 3)
        np.testing.assert_array_equal(ep.observations, EXPECTED[f"obs{i}"])
        assert ep.truncated and not ep.terminated
    meta = dataset.metadata
    assert meta.source == "import:image-pairs" and meta.env_id == "lfo_ray/GridWorld-v0"
    assert meta.observation_space == {"type": "Box", "shape": [50, 50, 3], "dtype": "uint8",
                                      "low": 0.0, "high": 255.0}


def test_single_png_is_one_step(tmp_path):
    dataset = read_image_pairs(FIXTURES / "image_pairs" / "2.png")
    assert [len(e) for e in dataset.episodes] == [1]


def test_unchained_pairs_are_one_step_episodes(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.png"):
        Image.fromarray(rng.integers(256, size=(4, 8, 3), dtype=np.uint8)).save(tmp_path / name)
    assert [len(e) for e in read_image_pairs(tmp_path).episodes] == [1, 1, 1]


def test_numeric_file_order(tmp_path):
    frames = np.arange(4, dtype=np.uint8)[:, None, None, None] * np.ones((1, 3, 3, 3), np.uint8)
    for order, name in enumerate(("2.png", "9.png", "10.png")):
        Image.fromarray(np.concatenate([frames[order], frames[order + 1]], axis=1)).save(tmp_path / name)
    dataset = read_image_pairs(tmp_path)
    assert [len(e) for e in dataset.episodes] == [3]
    np.testing.assert_array_equal(dataset.episodes[0].observations, frames)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_other_8bit_modes_become_rgb(tmp_path, mode):
    pixels = np.full((2, 4, 3), 200, np.uint8)
    Image.fromarray(pixels).convert(mode).save(tmp_path / "0.png")
    dataset = read_image_pairs(tmp_path)
    assert dataset.obs_shape == (2, 2, 3)
    assert dataset.episodes[0].observations.dtype == np.uint8


def image_dataset() -> ObsDataset:
    rng = np.random.default_rng(1)
    episodes = [ObsEpisode(rng.integers(256, size=(n + 1, 5, 7, 3), dtype=np.uint8)) for n in (3, 1, 2)]
    return ObsDataset(tuple(episodes), DatasetMetadata(env_id=""))


def test_write_read_round_trip(tmp_path):
    original = image_dataset()
    directory = write_image_pairs(original, tmp_path / "pairs")
    names = sorted(p.name for p in directory.iterdir())
    assert names == sorted(f"{i}.png" for i in range(6))
    with Image.open(directory / "0.png") as image:
        assert image.size == (14, 5)
    back = read_image_pairs(directory)
    assert len(back) == 3
    for a, b in zip(original.episodes, back.episodes):
        np.testing.assert_array_equal(a.observations, b.observations)
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]


def test_reference_fixture_survives_write_and_read(tmp_path):
    original = read_image_pairs(FIXTURES / "image_pairs")
    back = read_image_pairs(write_image_pairs(original, tmp_path / "copy"))
    for a, b in zip(original.episodes, back.episodes):
        np.testing.assert_array_equal(a.observations, b.observations)


def test_write_into_empty_directory(tmp_path):
    (tmp_path / "pairs").mkdir()
    write_image_pairs(image_dataset(), tmp_path / "pairs")
    assert len(list((tmp_path / "pairs").iterdir())) == 6


def test_write_refuses_non_empty_directory_and_non_images(tmp_path):
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match=rf"{tmp_path}/pairs: exists and is not an empty directory"):
        write_image_pairs(image_dataset(), tmp_path / "pairs")
    assert [p.name for p in (tmp_path / "pairs").iterdir()] == ["keep.txt"]
    vectors = ObsDataset((ObsEpisode(np.zeros((2, 4), np.float32)),), DatasetMetadata(env_id=""))
    with pytest.raises(DataError, match=r"shape \(4,\) and dtype float32 cannot be written as image "
                                        r"pairs; expected uint8 RGB images \(H, W, 3\)"):
        write_image_pairs(vectors, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def crash(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original_save(self, *args, **kwargs)

    original_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        write_image_pairs(image_dataset(), tmp_path / "pairs")
    assert list(tmp_path.iterdir()) == []


def read_error(path: Path) -> str:
    with pytest.raises(DataError) as error:
        read_image_pairs(path)
    return str(error.value)


def test_odd_width(tmp_path):
    Image.fromarray(np.zeros((4, 7, 3), np.uint8)).save(tmp_path / "0.png")
    assert read_error(tmp_path) == (
        f"{tmp_path / '0.png'}: image is 7x4 pixels; expected an [A][B] pair of even width, "
        "state on the left half, next state on the right"
    )


def test_size_mismatch(tmp_path):
    Image.fromarray(np.zeros((4, 8, 3), np.uint8)).save(tmp_path / "0.png")
    Image.fromarray(np.zeros((4, 10, 3), np.uint8)).save(tmp_path / "1.png")
    assert read_error(tmp_path) == f"{tmp_path / '1.png'}: image is 10x4 pixels; expected 8x4 like 0.png"


def test_not_a_png(tmp_path):
    (tmp_path / "0.png").write_text("not an image")
    message = read_error(tmp_path)
    assert message.startswith(f"{tmp_path / '0.png'}: not a readable PNG")


def test_jpeg_named_png(tmp_path):
    Image.fromarray(np.zeros((4, 8, 3), np.uint8)).save(tmp_path / "0.png", format="JPEG")
    assert read_error(tmp_path) == f"{tmp_path / '0.png'}: is a JPEG image; expected a PNG"


def test_truncated_png(tmp_path):
    shutil.copy(FIXTURES / "image_pairs" / "0.png", tmp_path / "0.png")
    data = (tmp_path / "0.png").read_bytes()
    (tmp_path / "0.png").write_bytes(data[: len(data) // 2])
    assert read_error(tmp_path).startswith(f"{tmp_path / '0.png'}: not a readable PNG")


def test_16_bit_png(tmp_path):
    Image.fromarray(np.zeros((4, 8), np.uint16)).save(tmp_path / "0.png")
    assert "image mode 'I;16' is not 8-bit; expected RGB" in read_error(tmp_path)


def test_empty_png(tmp_path):
    (tmp_path / "0.png").write_bytes(b"")
    assert read_error(tmp_path).startswith(f"{tmp_path / '0.png'}: not a readable PNG")


def test_stray_file_and_missing_directory(tmp_path):
    shutil.copy(FIXTURES / "image_pairs" / "0.png", tmp_path / "0.png")
    (tmp_path / "labels.txt").write_text("x")
    assert read_error(tmp_path) == (
        f"{tmp_path}: stray file 'labels.txt' (1 in all) in a image-pairs directory; "
        "expected only *.png files"
    )
    assert read_error(tmp_path / "absent") == f"{tmp_path / 'absent'}: no such file or directory"
