"""Minari datasets (the offline-RL standard, 0.5.x) to and from lfo-ray's demonstrations.

A Minari dataset lives in a directory `<root>/<namespace>/<name>-v<N>/data/` (metadata.json plus
the episodes in HDF5 or Arrow), where `<root>` is MINARI_DATASETS_PATH (default
~/.minari/datasets). It is named either by its id, looked up under that root, or by the path of
its directory. Nothing is ever downloaded: a dataset that is not on disk is an error.

Reading keeps the actions and rewards (an ILfO algorithm drops the actions itself, and BC or GAIL
can use them) and Minari's terminations/truncations as episode ends. Writing needs actions,
which Minari requires; it goes to a temporary directory beside the target and is renamed into
place, so an interrupted export never leaves a half-written dataset.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict

MINARI = "minari"
ROOT_VARIABLE = "MINARI_DATASETS_PATH"
DATA_DIR = "data"
METADATA_FILE = "metadata.json"


def minari_root() -> Path:
    """MINARI_DATASETS_PATH, or Minari's default when it is unset."""
    return Path(os.environ.get(ROOT_VARIABLE, Path.home() / ".minari" / "datasets"))


def data_dir(path: Path) -> Path | None:
    """The `data/` directory of a Minari dataset at `path` (the dataset or its data dir), else None."""
    for candidate in (path / DATA_DIR, path):
        if (candidate / METADATA_FILE).is_file() and candidate.name == DATA_DIR:
            return candidate
    return None


def local_ids() -> list[str]:
    """Ids of the Minari datasets under MINARI_DATASETS_PATH."""
    root = minari_root()
    if not root.is_dir():
        return []
    return sorted(str(p.parent.parent.relative_to(root))
                  for p in root.glob(f"**/{DATA_DIR}/{METADATA_FILE}"))


def locate(source: str | os.PathLike) -> Path:
    """The data directory of a Minari dataset given by path or by id."""
    path = Path(source)
    found = data_dir(path) if path.is_dir() else None
    if found is None and not path.is_absolute():
        found = data_dir(minari_root() / path)
    if found is None:
        known = ", ".join(local_ids()) or "none"
        raise DataError(
            f"{source}: not a Minari dataset directory (expected {DATA_DIR}/{METADATA_FILE} in it) "
            f"nor the id of a local dataset under {ROOT_VARIABLE}={minari_root()} (local ids: {known}); "
            "lfo-ray never downloads datasets"
        )
    return found


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # Minari warns about optional metadata (author, code permalink) that imports do not need.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _array(value: object, what: str, where: str) -> np.ndarray:
    if isinstance(value, (dict, tuple)):
        raise DataError(f"{where}: {what} are a {type(value).__name__} space; lfo-ray reads Box "
                        "and Discrete spaces (flat arrays) only")
    return np.asarray(value)


def read_minari(source: str | os.PathLike, env_id: str = "") -> ObsDataset:
    """Reads a local Minari dataset (by path or id) into an ObsDataset, actions kept."""
    import minari

    path = locate(source)
    with _quiet():
        dataset = minari.MinariDataset(path)
        spec_env = dataset.spec.env_spec
        recorded = spec_env.id if spec_env is not None else ""
        episodes = []
        for episode in dataset.iterate_episodes():
            where = f"{source}: episode {episode.id}"
            terminated = bool(np.asarray(episode.terminations)[-1])
            try:
                episodes.append(ObsEpisode(
                    observations=_array(episode.observations, "observations", where),
                    actions=_array(episode.actions, "actions", where),
                    rewards=np.asarray(episode.rewards, dtype=np.float32),
                    terminated=terminated,
                    truncated=not terminated,
                ))
            except DataError as error:
                raise DataError(f"{where}: {error}") from None
        if not episodes:
            raise DataError(f"{source}: the Minari dataset holds no episodes")
        metadata = DatasetMetadata(
            env_id=env_id or recorded,
            observation_space=space_to_dict(dataset.observation_space),
            action_space=space_to_dict(dataset.action_space),
            source=f"import:{MINARI}",
            extra={"minari_id": dataset.spec.dataset_id, "path": str(path.parent)},
        )
    return ObsDataset.from_episodes(episodes, metadata)


def write_minari(dataset: ObsDataset, dataset_id: str) -> Path:
    """Writes `dataset` as the Minari dataset `dataset_id` under MINARI_DATASETS_PATH.

    Returns the dataset's directory. Refuses an id that already exists and a dataset without
    actions (Minari stores (s, a, r, s') episodes).
    """
    import gymnasium as gym
    import minari
    from minari.data_collector import EpisodeBuffer

    from lfo_ray.data.types import space_from_dict

    if not dataset.has_actions:
        raise DataError(f"{dataset_id}: Minari datasets store actions and these demonstrations "
                        "have none; expected a dataset collected with actions (lfo collect)")
    target = minari_root() / dataset_id
    if target.exists():
        raise DataError(f"{target}: a Minari dataset {dataset_id!r} exists already; expected a new id")
    meta = dataset.metadata
    buffers = [
        EpisodeBuffer(
            id=index,
            observations=np.asarray(e.observations),
            actions=np.asarray(e.actions),
            rewards=np.zeros(len(e)) if e.rewards is None else np.asarray(e.rewards, np.float64),
            terminations=np.arange(len(e)) == len(e) - 1 if e.terminated else np.zeros(len(e), bool),
            truncations=np.arange(len(e)) == len(e) - 1 if not e.terminated else np.zeros(len(e), bool),
            infos={},
        )
        for index, e in enumerate(dataset.episodes)
    ]
    known_env = bool(meta.env_id) and meta.env_id in gym.registry
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".lfo-minari-", dir=minari_root()))
    previous = os.environ.get(ROOT_VARIABLE)
    try:
        os.environ[ROOT_VARIABLE] = str(staging)
        with _quiet():
            minari.create_dataset_from_buffers(
                dataset_id, buffers,
                env=meta.env_id if known_env else None,
                observation_space=None if known_env else space_from_dict(meta.observation_space),
                action_space=None if known_env else space_from_dict(meta.action_space),
                algorithm_name=meta.source,
                description=f"exported by lfo-ray from {meta.source} demonstrations",
            )
        os.replace(staging / dataset_id, target)
    except ValueError as error:
        raise DataError(f"{dataset_id}: Minari refused the dataset ({error})") from None
    finally:
        if previous is None:
            os.environ.pop(ROOT_VARIABLE, None)
        else:
            os.environ[ROOT_VARIABLE] = previous
        shutil.rmtree(staging, ignore_errors=True)
    return target
