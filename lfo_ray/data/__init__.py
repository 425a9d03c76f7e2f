"""Observation-only demonstrations: typed in-memory form, Parquet on disk, foreign formats."""

from lfo_ray.data.parquet import iter_transitions, read_dataset, read_metadata, write_dataset
from lfo_ray.data.types import (
    DataError,
    DatasetMetadata,
    ObsDataset,
    ObsEpisode,
    Transitions,
    space_from_dict,
    space_to_dict,
)

__all__ = [
    "DataError",
    "DatasetMetadata",
    "ObsDataset",
    "ObsEpisode",
    "Transitions",
    "iter_transitions",
    "read_dataset",
    "read_metadata",
    "space_from_dict",
    "space_to_dict",
    "write_dataset",
]
