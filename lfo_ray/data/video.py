"""Videos and folders of frames as observation-only pixel demonstrations.

Observation-only data exists in quantity as video; this turns it into lfo-ray's form. A source is
- a video file (mp4, gif, avi, mov, mkv, webm): one episode;
- a folder of numbered frames (png, jpg; numeric order when every name is a number): one episode;
- a folder of video files, or a folder of frame folders: one episode per entry.
Consecutive frames (every `frame_stride`-th) become the (s, s') transitions. Whether an episode
ended in a terminal state is unknown, so every episode is marked truncated.

Frames are fitted to the env's observation space: (H, W, 3) RGB, (H, W, 1) or (H, W) grayscale,
uint8. Pillow's box filter resizes them: an area average, so a video rendered at an integer
multiple of the env's size comes back with its flat colours exact. Decoding goes through imageio
(its ffmpeg plugin ships the ffmpeg binary; pillow reads gif and still frames).
"""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image

from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict

VIDEO = "video"
VIDEO_SUFFIXES = (".mp4", ".gif", ".avi", ".mov", ".mkv", ".webm")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _visible(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if not p.name.startswith(".")]


def _ordered(paths: list[Path]) -> list[Path]:
    """Numeric order when every stem is a number, else by name."""
    if paths and all(p.stem.isdigit() for p in paths):
        return sorted(paths, key=lambda p: (int(p.stem), p.name))
    return sorted(paths, key=lambda p: p.name)


def is_video_source(path: Path) -> bool:
    """A video file, a folder of videos, or a folder of frame folders."""
    if path.is_file():
        return path.suffix.lower() in VIDEO_SUFFIXES
    entries = _visible(path) if path.is_dir() else []
    return bool(entries) and (all(p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES for p in entries)
                              or all(p.is_dir() for p in entries))


def is_frame_folder(path: Path) -> bool:
    entries = _visible(path) if path.is_dir() else []
    return bool(entries) and all(p.is_file() and p.suffix.lower() in FRAME_SUFFIXES for p in entries)


def episode_sources(path: Path) -> list[Path]:
    """The video files or frame folders under `path`, one per episode, in order."""
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise DataError(f"{path}: not a video file; expected one of {', '.join(VIDEO_SUFFIXES)}")
        return [path]
    if is_frame_folder(path):
        return [path]
    if is_video_source(path):
        sources = _ordered(_visible(path))
        for source in sources:
            if source.is_dir() and not is_frame_folder(source):
                raise DataError(f"{source}: expected a folder of frames "
                                f"({', '.join(FRAME_SUFFIXES)}) only")
        return sources
    raise DataError(f"{path}: expected a video file ({', '.join(VIDEO_SUFFIXES)}), a folder of "
                    f"numbered frames ({', '.join(FRAME_SUFFIXES)}), or a folder of either")


def _decode(source: Path) -> list[np.ndarray]:
    """The frames of one video file or frame folder, as decoded (H, W[, C]) uint8 arrays."""
    import imageio.v3 as iio

    files = _ordered(_visible(source)) if source.is_dir() else [source]
    frames = []
    for file in files:
        try:
            frames.extend(iio.imiter(file) if source.is_file() else [iio.imread(file)])
        except (OSError, ValueError, RuntimeError) as error:
            # ffmpeg's message spans many lines (its build flags); its last line says what failed.
            reason = [line for line in str(error).splitlines() if line.strip()][-1:] or [type(error).__name__]
            raise DataError(f"{file}: cannot be decoded ({reason[0].strip()}); expected a video "
                            f"({', '.join(VIDEO_SUFFIXES)}) or image frames") from None
    return frames


def _image_shape(env_id: str, space: gym.Space | None) -> tuple[int, ...]:
    if (not isinstance(space, gym.spaces.Box) or space.dtype != np.uint8
            or not (len(space.shape) == 2 or (len(space.shape) == 3 and space.shape[2] in (1, 3)))):
        raise DataError(f"{env_id}: observation space {space} is not an image; video import needs "
                        "uint8 observations of shape (H, W, 3), (H, W, 1) or (H, W)")
    return tuple(space.shape)


def fit_frame(frame: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One decoded frame as an observation of `shape` (see the module docstring)."""
    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    image = image.convert("RGB" if len(shape) == 3 and shape[2] == 3 else "L")
    height, width = shape[:2]
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8).reshape(shape)


def read_video(path: str | os.PathLike, env_id: str, *, frame_stride: int = 1,
               observation_space: gym.Space | None = None) -> ObsDataset:
    """Pixel demonstrations from videos or frame folders, fitted to `env_id`'s observations.

    observation_space: the env's (made from `env_id` when None).
    """
    path = Path(path)
    if frame_stride < 1:
        raise DataError(f"frame stride must be >= 1, got {frame_stride}")
    if not env_id:
        raise DataError(f"{path}: video import needs --env: frames are resized to the env's "
                        "observation shape")
    if observation_space is None:
        from lfo_ray.envs.user import portable_env

        probe = gym.make(portable_env(env_id))
        observation_space = probe.observation_space
        probe.close()
    shape = _image_shape(env_id, observation_space)
    episodes = []
    for source in episode_sources(path):
        frames = _decode(source)[::frame_stride]
        if len(frames) < 2:
            raise DataError(f"{source}: {len(frames)} frame(s) with frame stride {frame_stride}; "
                            "expected at least 2 for one (s, s') transition")
        episodes.append(ObsEpisode(np.stack([fit_frame(f, shape) for f in frames]), truncated=True))
    metadata = DatasetMetadata(
        env_id=env_id,
        observation_space=space_to_dict(observation_space),
        source=f"import:{VIDEO}",
        extra={"path": str(path), "episodes": "one per video file or frame folder",
               "frame_stride": frame_stride},
    )
    return ObsDataset.from_episodes(episodes, metadata)
