"""One config path: algorithm configs are frozen dataclasses; `--set key=value` overrides fields."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any, Mapping


class ConfigError(ValueError):
    """An override names an unknown field or a value of the wrong type."""


def _coerce(name: str, text: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if text.lower() in ("none", "null"):
            return None
        return _coerce(name, text, args[0])
    if annotation is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected a boolean (true/false), got {text!r}")
    if annotation in (int, float):
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{name}: expected a finite number, got {text!r}")
        if annotation is int:
            if not value.is_integer():
                raise ConfigError(f"{name}: expected an integer, got {text!r}")
            return int(value)
        return value
    if annotation is str:
        return text
    if origin in (tuple, list):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = [v for v in text.split(",") if v]
        if not isinstance(value, list):
            value = [value]
        inner = args[0] if args else str
        items = [_coerce(name, str(v), inner) if not isinstance(v, inner) else v for v in value]
        return tuple(items) if origin is tuple else items
    raise ConfigError(f"{name}: cannot set a field of type {annotation!r} from the command line")


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of `config` with fields replaced; string values are parsed by the field's type."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes = {}
    for key, value in overrides.items():
        if key not in fields:
            raise ConfigError(
                f"unknown config field {key!r} for {type(config).__name__}; "
                f"valid fields: {', '.join(sorted(fields))}"
            )
        changes[key] = _coerce(key, value, hints[key]) if isinstance(value, str) else value
    from lfo_ray.validate import nonfinite_floats

    for key, value in nonfinite_floats(changes).items():
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    return dataclasses.replace(config, **changes)


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """["a=1", "b=x"] -> {"a": "1", "b": "x"}."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
