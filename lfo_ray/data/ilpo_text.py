"""The ILPO reference's vector demonstration text format.

Each line is one transition, `[s] [s']` (observation only) or `[s] [a] [s']` (with the action),
where a vector is comma-separated numbers in brackets, e.g. `[0.01,-0.2,0.03,0.4] [1] [...]`.
As in the reference loader, `,,` is read as `,`, blank lines are skipped, and a directory means
every `*.txt` file in it (numeric order when the names are numbers).

The format has no episode boundaries, so episodes are inferred by chaining: a new episode starts
at line i when s_i differs from s'_(i-1), and at the start of every file. Whether an episode ended
in a terminal state is unknown, so every inferred episode is marked truncated. Two consecutive
episodes whose first and last states coincide are merged; that cannot be told from the text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from lfo_ray.data.formats import ILPO_TEXT, dataset_files
from lfo_ray.data.parquet import atomic_write
from lfo_ray.data.types import (
    DataError,
    DatasetMetadata,
    ObsDataset,
    ObsEpisode,
    chain_starts,
    space_to_dict,
)

_GROUP = re.compile(r"\[([^\[\]]*)\]")
_INT = re.compile(r"[+-]?\d+")
EXPECTED_LINE = "'[s] [s']' or '[s] [a] [s']' (bracketed comma-separated numbers, space-separated)"


@dataclass(frozen=True)
class _Vector:
    values: np.ndarray
    column: int
    integers: bool


@dataclass(frozen=True)
class _Layout:
    """The first line's layout, which every later line (of every file) must share."""

    where: str
    groups: int
    state: int
    action: int


@dataclass(frozen=True)
class _Rows:
    """The parsed lines of one file."""

    path: Path
    lines: np.ndarray
    states: np.ndarray
    actions: np.ndarray | None
    next_states: np.ndarray
    integer_actions: bool


def _parse_vector(inner: str, column: int, where: str) -> _Vector:
    """Numbers of one `[...]` group whose contents start at 1-based `column`."""
    values, integers, offset = [], True, 0
    for item in inner.split(","):
        token = item.strip()
        at = column + offset + (len(item) - len(item.lstrip()))
        offset += len(item) + 1
        if not token:
            continue
        try:
            value = float(token)
        except ValueError:
            raise DataError(f"{where}, column {at}: expected a number, found {token!r}") from None
        if not np.isfinite(value):
            raise DataError(
                f"{where}, column {at}: {token!r} is not finite; expected a finite number"
            )
        values.append(value)
        integers = integers and bool(_INT.fullmatch(token))
    if not values:
        raise DataError(f"{where}, column {column - 1}: empty vector '[]'; expected numbers")
    return _Vector(np.array(values, dtype=np.float64), column - 1, integers)


def _syntax_error(text: str, where: str, start: int) -> DataError:
    """An error pointing at the first non-blank character at or after 0-based `start`."""
    column = start + len(text[start:]) - len(text[start:].lstrip()) + 1
    found = text[column - 1:column + 19]
    return DataError(f"{where}, column {column}: expected {EXPECTED_LINE}, found {found!r}")


def _parse_line(text: str, where: str) -> list[_Vector]:
    """The 2 or 3 vectors of one line."""
    groups, end = [], 0
    for match in _GROUP.finditer(text):
        gap = text[end:match.start()]
        if gap.strip() or (groups and not gap):
            raise _syntax_error(text, where, end)
        groups.append(_parse_vector(match.group(1), match.start(1) + 1, where))
        end = match.end()
    if text[end:].strip() or not groups:
        raise _syntax_error(text, where, end)
    if len(groups) not in (2, 3):
        raise DataError(
            f"{where}: found {len(groups)} bracketed vector(s); expected {EXPECTED_LINE}"
        )
    return groups


def _check_size(vector: _Vector, size: int, what: str, where: str, first: str) -> None:
    if vector.values.size != size:
        raise DataError(
            f"{where}, column {vector.column}: {what} has {vector.values.size} value(s), "
            f"expected {size} like {first}"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: not UTF-8 text (byte {error.start}); expected ILPO text lines"
        ) from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None


def _read_file(path: Path, layout: _Layout | None) -> tuple[_Rows, _Layout]:
    """Parses one file whose lines must match `layout` (the first line's, when None)."""
    lines, states, actions, next_states, integer_actions = [], [], [], [], True
    for number, text in enumerate(_read_text(path).split("\n"), start=1):
        if not text.strip():
            continue
        where = f"{path}, line {number}"
        groups = _parse_line(text, where)
        if layout is None:
            layout = _Layout(where, len(groups), groups[0].values.size,
                             groups[1].values.size if len(groups) == 3 else 0)
        if len(groups) != layout.groups:
            kinds = {2: "'[s] [s']'", 3: "'[s] [a] [s']'"}
            raise DataError(
                f"{where}: found {kinds[len(groups)]}, expected {kinds[layout.groups]} "
                f"like {layout.where}"
            )
        _check_size(groups[0], layout.state, "state", where, layout.where)
        _check_size(groups[-1], layout.state, "next state", where, layout.where)
        if len(groups) == 3:
            _check_size(groups[1], layout.action, "action", where, layout.where)
            actions.append(groups[1].values)
            integer_actions = integer_actions and groups[1].integers
        lines.append(number)
        states.append(groups[0].values)
        next_states.append(groups[-1].values)
    if not lines:
        raise DataError(f"{path}: empty file; expected lines {EXPECTED_LINE}")
    rows = _Rows(path, np.array(lines), np.stack(states),
                 np.stack(actions) if actions else None, np.stack(next_states), integer_actions)
    return rows, layout


def _cast(rows: _Rows, values: np.ndarray, dtype: np.dtype, what: str) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        cast = values.astype(dtype)
    bad = ~np.isfinite(cast) if np.issubdtype(dtype, np.floating) else cast != values
    if bad.ndim > 1:
        bad = bad.any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{rows.path}, line {rows.lines[row]}: {what} does not fit {dtype}")
    return cast


def _episodes(rows: _Rows, dtype: np.dtype, integer_actions: bool) -> list[ObsEpisode]:
    starts = chain_starts(rows.states, rows.next_states)
    ends = np.r_[starts[1:], len(rows.states)]
    states = _cast(rows, rows.states, dtype, "state")
    next_states = _cast(rows, rows.next_states, dtype, "next state")
    actions = None
    if rows.actions is not None:
        action_dtype = np.dtype(np.int64 if integer_actions else np.float32)
        actions = _cast(rows, rows.actions, action_dtype, "action")
        if integer_actions and actions.shape[1] == 1:
            actions = actions[:, 0]
    return [
        ObsEpisode(
            observations=np.concatenate([states[start:end], next_states[end - 1:end]]),
            actions=None if actions is None else actions[start:end],
            truncated=True,
        )
        for start, end in zip(starts, ends)
    ]


def read_ilpo_text(path: str | os.PathLike, env_id: str = "", *,
                   dtype: np.dtype | type = np.float32) -> ObsDataset:
    """Reads an ILPO text file or directory; observations become `dtype` vectors.

    Actions, when present, are int64 if every action is written as integers (one-element
    actions become scalars, as for Discrete spaces), else float32 vectors.
    """
    path = Path(path)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f"dtype {dtype} is not a floating-point type; expected e.g. float32")
    files = dataset_files(path, ILPO_TEXT)
    parsed, layout = [], None
    for file in files:
        rows, layout = _read_file(file, layout)
        parsed.append(rows)
    integer_actions = all(rows.integer_actions for rows in parsed)
    episodes = [e for rows in parsed for e in _episodes(rows, dtype, integer_actions)]
    metadata = DatasetMetadata(
        env_id=env_id,
        observation_space=space_to_dict(gym.spaces.Box(-np.inf, np.inf, (layout.state,), dtype)),
        source=f"import:{ILPO_TEXT}",
        extra={"path": str(path), "files": len(files), "episodes": "inferred by chaining s' to s"},
    )
    return ObsDataset.from_episodes(episodes, metadata)


def _format_vector(values: np.ndarray) -> str:
    values = np.atleast_1d(values)
    if values.dtype == np.bool_:
        values = values.astype(np.int8)
    return "[" + ",".join(str(v) for v in values) + "]"


def _dataset_lines(dataset: ObsDataset, with_actions: bool) -> list[str]:
    lines = []
    for episode in dataset.episodes:
        obs = [_format_vector(o) for o in episode.observations]
        for t in range(len(episode)):
            middle = f" {_format_vector(episode.actions[t])}" if with_actions else ""
            lines.append(f"{obs[t]}{middle} {obs[t + 1]}\n")
    return lines


def write_ilpo_text(dataset: ObsDataset, path: str | os.PathLike, *,
                    with_actions: bool = False) -> Path:
    """Writes one ILPO text file atomically: `[s] [s']` lines, or `[s] [a] [s']` with actions.

    Episode ends and rewards are not representable and are lost.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory; expected the path of a .txt file to write")
    if len(dataset.obs_shape) > 1:
        raise DataError(
            f"observations of shape {dataset.obs_shape} cannot be written as ILPO vectors; "
            "expected scalars or 1-D vectors (write images with write_image_pairs)"
        )
    if with_actions and not dataset.has_actions:
        raise DataError("the dataset has no actions; expected with_actions=False")
    if with_actions and len(dataset.episodes[0].actions.shape) > 2:
        raise DataError("actions of more than one dimension cannot be written as ILPO vectors")
    text = "".join(_dataset_lines(dataset, with_actions))
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
