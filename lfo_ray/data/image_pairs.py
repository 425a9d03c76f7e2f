"""The ILPO reference's image demonstration format (pix2pix style).

Each PNG holds one transition: the state on the left half and the next state on the right
([A][B], so the width is even; the reference uses width = 2 * height). A directory means every
`*.png` in it, in numeric order when the names are numbers. Images are read as 8-bit RGB, as the
reference decodes them (grayscale and palette images are expanded, alpha is dropped).

Episodes are inferred by chaining: a new episode starts at image i when its left half differs
(exact uint8 comparison) from the right half of image i-1; without such chains every pair is a
one-step episode. Whether an episode ended in a terminal state is unknown, so every inferred
episode is marked truncated.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image

from lfo_ray.data.formats import IMAGE_PAIRS, dataset_files
from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict

_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")


def _read_png(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 pixels of one PNG."""
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise DataError(f"{path}: is a {image.format} image; expected a PNG")
            if image.mode not in _MODES:
                raise DataError(
                    f"{path}: image mode {image.mode!r} is not 8-bit; expected RGB, RGBA, "
                    "grayscale or palette PNG"
                )
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: not a readable PNG ({error})") from None


def _split(path: Path, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = pixels.shape[:2]
    if width % 2:
        raise DataError(
            f"{path}: image is {width}x{height} pixels; expected an [A][B] pair of even width, "
            "state on the left half, next state on the right"
        )
    return pixels[:, : width // 2], pixels[:, width // 2:]


def _chain(pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[ObsEpisode]:
    episodes, frames = [], [pairs[0][0]]
    for index, (state, next_state) in enumerate(pairs):
        if index and not np.array_equal(state, frames[-1]):
            episodes.append(ObsEpisode(np.stack(frames), truncated=True))
            frames = [state]
        frames.append(next_state)
    episodes.append(ObsEpisode(np.stack(frames), truncated=True))
    return episodes


def read_image_pairs(path: str | os.PathLike, env_id: str = "") -> ObsDataset:
    """Reads a PNG pair (or a directory of them) into uint8 (H, W, 3) observations."""
    path = Path(path)
    files = dataset_files(path, IMAGE_PAIRS)
    pairs = []
    for file in files:
        pair = _split(file, _read_png(file))
        if pairs and pair[0].shape != pairs[0][0].shape:
            (h, w, _), (h0, w0, _) = pair[0].shape, pairs[0][0].shape
            raise DataError(
                f"{file}: image is {2 * w}x{h} pixels; expected {2 * w0}x{h0} like {files[0].name}"
            )
        pairs.append(pair)
    metadata = DatasetMetadata(
        env_id=env_id,
        observation_space=space_to_dict(gym.spaces.Box(0, 255, pairs[0][0].shape, np.uint8)),
        source=f"import:{IMAGE_PAIRS}",
        extra={"path": str(path), "files": len(files), "episodes": "inferred by chaining s' to s"},
    )
    return ObsDataset.from_episodes(_chain(pairs), metadata)


def _check_writable(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise DataError(
            f"{directory}: exists and is not an empty directory; expected a new directory"
        )


def write_image_pairs(dataset: ObsDataset, directory: str | os.PathLike) -> Path:
    """Writes one `{i}.png` per transition into a new directory, all or nothing.

    The PNGs go to a hidden sibling directory that is renamed into place at the end. Episode
    ends, actions and rewards are not representable and are lost.
    """
    directory = Path(directory)
    obs = dataset.episodes[0].observations
    if obs.dtype != np.uint8 or obs.ndim != 4 or obs.shape[-1] != 3:
        raise DataError(
            f"observations of shape {dataset.obs_shape} and dtype {obs.dtype} cannot be written "
            "as image pairs; expected uint8 RGB images (H, W, 3)"
        )
    _check_writable(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.parent / f".{directory.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    try:
        index = 0
        for episode in dataset.episodes:
            frames = episode.observations
            for t in range(len(episode)):
                pair = np.concatenate([frames[t], frames[t + 1]], axis=1)
                Image.fromarray(pair).save(tmp / f"{index}.png", format="PNG")
                index += 1
        _check_writable(directory)
        if directory.exists():
            directory.rmdir()
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory
