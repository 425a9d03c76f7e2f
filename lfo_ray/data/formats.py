"""Which on-disk format a path holds, and importing any of them into an ObsDataset.

Formats: lfo-ray's Parquet, plain Parquet with the same columns and no lfo-ray metadata (spaces
from --env), ILPO text and image pairs, the tutorial pickle, Minari datasets (a dataset directory,
or an id under MINARI_DATASETS_PATH), and video (video files or folders of frames, fitted to
--env's image observations). A folder of PNGs is image pairs when its first image is twice as
wide as it is high (ILPO's [s][s'] layout), else a folder of video frames.

Foreign demonstration sets come as a file or a directory of same-kind files (the ILPO reference
reads every `*.txt` or `*.png` in a directory). A directory holding a file of another kind is an
error rather than a silently skipped file, so a mixed-up directory never imports half its data.
Hidden files (names starting with ".") are ignored: they are editor, OS or temporary files.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import gymnasium as gym
import numpy as np

from lfo_ray.data.minari_datasets import MINARI, data_dir
from lfo_ray.data.types import DataError, ObsDataset, space_to_dict
from lfo_ray.data.video import VIDEO, VIDEO_SUFFIXES, is_frame_folder, is_video_source

PARQUET = "parquet"
ILPO_TEXT = "ilpo-text"
IMAGE_PAIRS = "image-pairs"
TUTORIAL_PICKLE = "tutorial-pickle"
FORMATS = (PARQUET, ILPO_TEXT, IMAGE_PAIRS, TUTORIAL_PICKLE, MINARI, VIDEO)

SUFFIXES = {
    PARQUET: (".parquet",),
    ILPO_TEXT: (".txt",),
    IMAGE_PAIRS: (".png",),
    TUTORIAL_PICKLE: (".pkl", ".pickle"),
    VIDEO: VIDEO_SUFFIXES,
}
DIRECTORY_FORMATS = (ILPO_TEXT, IMAGE_PAIRS, TUTORIAL_PICKLE)

_MAGIC = (
    (b"PAR1", PARQUET),
    (b"\x89PNG\r\n\x1a\n", IMAGE_PAIRS),
    (b"\x80", TUTORIAL_PICKLE),
)


def _patterns(fmt: str) -> str:
    if fmt == MINARI:
        return "a Minari dataset directory or id"
    return " or ".join(f"*{suffix}" for suffix in SUFFIXES[fmt])


def _format_of_name(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return next((fmt for fmt, suffixes in SUFFIXES.items() if suffix in suffixes), None)


def _sort_key(paths: list[Path]):
    """Numeric order when every stem is a number (as the ILPO reference sorts), else by name."""
    if all(p.stem.isdigit() for p in paths):
        return lambda p: (int(p.stem), p.name)
    return lambda p: p.name


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def _require_exists(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")


def dataset_files(path: str | os.PathLike, fmt: str) -> list[Path]:
    """The files of a `fmt` dataset at `path` (a file, or a directory of them), in reading order."""
    path = Path(path)
    _require_exists(path)
    if not path.is_dir():
        return [path]
    if fmt not in DIRECTORY_FORMATS:
        raise DataError(f"{path}: is a directory, expected a single {fmt} file")
    files, stray = [], []
    for entry in _entries(path):
        (files if entry.is_file() and _format_of_name(entry) == fmt else stray).append(entry)
    if stray:
        raise DataError(
            f"{path}: stray {'directory' if stray[0].is_dir() else 'file'} {stray[0].name!r} "
            f"({len(stray)} in all) in a {fmt} directory; expected only {_patterns(fmt)} files"
        )
    if not files:
        raise DataError(f"{path}: empty directory; expected {_patterns(fmt)} files")
    return sorted(files, key=_sort_key(files))


def _detect_directory(directory: Path) -> str:
    by_format: dict[str, list[Path]] = {fmt: [] for fmt in DIRECTORY_FORMATS}
    unknown = []
    for entry in _entries(directory):
        fmt = _format_of_name(entry) if entry.is_file() else None
        (by_format[fmt] if fmt in by_format else unknown).append(entry)
    counts = sorted(((len(files), fmt) for fmt, files in by_format.items() if files),
                    key=lambda c: (-c[0], DIRECTORY_FORMATS.index(c[1])))
    expected = ", ".join(f"{_patterns(fmt)} ({fmt})" for fmt in DIRECTORY_FORMATS)
    if not counts:
        what = f"stray entry {unknown[0].name!r}" if unknown else "nothing"
        raise DataError(f"{directory}: holds {what}; expected a directory of {expected} files")
    if len(counts) > 1 and counts[0][0] == counts[1][0]:
        a, b = counts[0][1], counts[1][1]
        raise DataError(
            f"{directory}: mixes {_patterns(a)} and {_patterns(b)} files "
            f"(e.g. {by_format[a][0].name!r} and {by_format[b][0].name!r}); expected one kind"
        )
    fmt = counts[0][1]
    dataset_files(directory, fmt)  # refuses the minority kinds and unknown entries as stray
    return fmt


def _sniff(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    return ILPO_TEXT if head.lstrip().startswith(b"[") else None


def _png_pairs(directory: Path) -> bool:
    """True when the folder's first PNG is twice as wide as high: ILPO's [s][s'] pairs."""
    from PIL import Image

    first = sorted(p for p in _entries(directory) if p.suffix.lower() == ".png")[0]
    try:
        with Image.open(first) as image:
            width, height = image.size
    except OSError as error:
        raise DataError(f"{first}: not a readable image ({error})") from None
    return width == 2 * height


def detect_format(path: str | os.PathLike) -> str:
    """One of FORMATS, from the file extension(s), or from the first bytes when there is none.

    A path that does not exist may name a local Minari dataset by id.
    """
    from lfo_ray.data.minari_datasets import ROOT_VARIABLE, local_ids, minari_root

    path = Path(path)
    if not path.exists():
        if str(path) in local_ids():
            return MINARI
        raise DataError(f"{path}: no such file or directory, nor the id of a local Minari dataset "
                        f"under {ROOT_VARIABLE}={minari_root()} (local ids: "
                        f"{', '.join(local_ids()) or 'none'})")
    if path.is_dir():
        if data_dir(path) is not None:
            return MINARI
        if is_video_source(path) or (is_frame_folder(path) and not (
                all(p.suffix.lower() == ".png" for p in _entries(path)) and _png_pairs(path))):
            return VIDEO
        return _detect_directory(path)
    fmt = _format_of_name(path) or _sniff(path)
    if fmt is None:
        known = ", ".join(f"{_patterns(f)} ({f})" for f in FORMATS)
        raise DataError(f"{path}: unrecognised demonstration format; expected one of {known}")
    return fmt


def _env_spaces(env_id: str) -> tuple[gym.Space, gym.Space] | None:
    """The environment's spaces, or None when gymnasium cannot make it here."""
    import lfo_ray.envs  # noqa: F401  (registers lfo_ray/GridWorld-v0)
    from lfo_ray.envs.user import portable_env

    try:
        env = gym.make(portable_env(env_id))
    except (gym.error.Error, ValueError):
        return None
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


def _check_actions(path: Path, dataset: ObsDataset, space: gym.Space, env_id: str) -> None:
    actions = np.concatenate([e.actions for e in dataset.episodes])
    if isinstance(space, gym.spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n - 1)
        ok = (actions.ndim == 1 and np.issubdtype(actions.dtype, np.integer)
              and actions.min() >= low and actions.max() <= high)
        expected = f"integers in {low}..{high}"
    else:
        ok = actions.shape[1:] == tuple(space.shape or ())
        expected = f"shape {space.shape}"
    if not ok:
        raise DataError(
            f"{path}: actions ({actions.dtype}, shape {actions.shape[1:]}, range "
            f"{actions.min()}..{actions.max()}) do not fit {env_id}'s action space {space}; "
            f"expected {expected}"
        )


def _for_env(path: Path, dataset: ObsDataset, env_id: str, fmt: str) -> ObsDataset:
    """Records `env_id` and, when gymnasium knows it, its spaces, checking the data fits them.

    Image pairs keep their own observation space: ILPO's images are renders, not env observations.
    """
    recorded = dataset.metadata.env_id
    if recorded and recorded != env_id:
        raise DataError(f"{path}: recorded for environment {recorded!r}, not {env_id!r}")
    metadata = dataclasses.replace(dataset.metadata, env_id=env_id)
    spaces = _env_spaces(env_id)
    if spaces is not None:
        obs_space, action_space = spaces
        if fmt != IMAGE_PAIRS:
            shape = tuple(obs_space.shape or ())
            if shape != dataset.obs_shape:
                raise DataError(
                    f"{path}: observations have shape {dataset.obs_shape}, but {env_id} "
                    f"observations have shape {shape}; expected data from {env_id}"
                )
            metadata = dataclasses.replace(metadata, observation_space=space_to_dict(obs_space))
        if dataset.has_actions:
            _check_actions(path, dataset, action_space, env_id)
        metadata = dataclasses.replace(metadata, action_space=space_to_dict(action_space))
    return ObsDataset(dataset.episodes, metadata)


def _read_parquet(path: Path, env_id: str | None) -> ObsDataset:
    """lfo-ray's own Parquet, or a plain one (no lfo-ray metadata) read with the env's spaces."""
    from lfo_ray.data.parquet import META_KEY, open_parquet, read_dataset
    from lfo_ray.data.plain_parquet import read_plain_parquet

    if META_KEY in (open_parquet(path).schema_arrow.metadata or {}):
        return read_dataset(path)
    return read_plain_parquet(path, env_id or "", _env_spaces(env_id) if env_id else None)


def import_path(src: str | os.PathLike, fmt: str | None = None,
                env_id: str | None = None, *, frame_stride: int = 1) -> ObsDataset:
    """Reads demonstrations in any supported format (detected when `fmt` is None).

    `env_id` records which environment the data comes from; it must agree with an env id the
    data already carries (Parquet, tutorial pickle, Minari). Plain Parquet takes its spaces
    from it and video its observation shape (required). frame_stride: video frames kept.
    """
    # The readers import dataset_files from this module, so they are imported here, not above.
    from lfo_ray.data.image_pairs import read_image_pairs
    from lfo_ray.data.ilpo_text import read_ilpo_text
    from lfo_ray.data.minari_datasets import read_minari
    from lfo_ray.data.tutorial_pickle import read_tutorial_pickle
    from lfo_ray.data.video import read_video

    path = Path(src)
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if frame_stride != 1 and fmt != VIDEO:
        raise DataError(f"{path}: --frame-stride applies to video, not to {fmt}")
    readers = {
        PARQUET: lambda p: _read_parquet(p, env_id),
        ILPO_TEXT: read_ilpo_text,
        IMAGE_PAIRS: read_image_pairs,
        TUTORIAL_PICKLE: read_tutorial_pickle,
        MINARI: read_minari,
        VIDEO: lambda p: read_video(p, env_id or "", frame_stride=frame_stride),
    }
    dataset = readers[fmt](path)
    return _for_env(path, dataset, env_id, fmt) if env_id else dataset
