"""Observation-only demonstrations: typed in-memory form, Parquet on disk, foreign formats
(plain Parquet, Minari, video, ILPO text and image pairs, the tutorial pickle)."""

from lfo_ray.data.formats import FORMATS, detect_format, import_path
from lfo_ray.data.ilpo_text import read_ilpo_text, write_ilpo_text
from lfo_ray.data.image_pairs import read_image_pairs, write_image_pairs
from lfo_ray.data.minari_datasets import read_minari, write_minari
from lfo_ray.data.parquet import iter_transitions, read_dataset, read_metadata, write_dataset
from lfo_ray.data.plain_parquet import read_plain_parquet
from lfo_ray.data.tutorial_pickle import read_tutorial_pickle
from lfo_ray.data.types import (
    DataError,
    DatasetMetadata,
    ObsDataset,
    ObsEpisode,
    Transitions,
    space_from_dict,
    space_to_dict,
)
from lfo_ray.data.video import read_video

__all__ = [
    "FORMATS",
    "DataError",
    "DatasetMetadata",
    "ObsDataset",
    "ObsEpisode",
    "Transitions",
    "detect_format",
    "import_path",
    "iter_transitions",
    "read_dataset",
    "read_ilpo_text",
    "read_image_pairs",
    "read_metadata",
    "read_minari",
    "read_plain_parquet",
    "read_tutorial_pickle",
    "read_video",
    "space_from_dict",
    "space_to_dict",
    "write_dataset",
    "write_ilpo_text",
    "write_image_pairs",
    "write_minari",
]
