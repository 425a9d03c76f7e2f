"""One config path: algorithm configs are frozen dataclasses; `--set key=value` overrides fields."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
import re
import textwrap
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


def parse_env_kwargs(items: list[str] | None) -> dict[str, Any]:
    """--env-kw key=value: values parsed as JSON (true, 0.5, "x"), else kept as strings."""
    out: dict[str, Any] = {}
    for key, text in parse_assignments(items).items():
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


def field_docs(config_cls: type) -> dict[str, str]:
    """The first sentence of the docstring written under each field of a config dataclass.

    The docstrings are string literals right after the field, which Python does not keep at
    runtime, so they are read from the class source with `ast`; the classes of the MRO are read
    from base to subclass, so inherited fields are documented and a redefinition wins.
    """
    docs: dict[str, str] = {}
    for cls in reversed(config_cls.__mro__):
        try:
            source = textwrap.dedent(inspect.getsource(cls))
        except (OSError, TypeError):  # builtins (object) and classes without a source file
            continue
        body = next(node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)).body
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = first_sentence(after.value.value)
    return docs


def first_sentence(text: str) -> str:
    """The text up to its first full stop followed by a space or the end, on one line."""
    flat = " ".join(text.split())
    match = re.search(r"\.(\s|$)", flat)
    return flat[: match.start() + 1] if match else flat


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
