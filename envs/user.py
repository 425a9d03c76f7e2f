"""Environments from the user's own code, made available in every process that receives their id.

Ray ships actor arguments by pickle, and a gymnasium id means nothing in a worker whose registry
never saw it: an env registered in the user's script, or defined in their package, works in one
process and dies in a Ray rollout actor. `EnvId` is a `str` (the id itself, so every call site
keeps passing plain ids) that carries what a fresh process needs to make the env: directories to
put on `sys.path`, modules to import (which register their envs), and, for an env registered
from a callable or given as a factory, its `EnvSpec`, pickled by value. Unpickling an `EnvId` in
a worker performs those steps before anything calls `gym.make`.

Accepted forms (`portable_env`):
- a registered id (`"CartPole-v1"`, `"lfo_ray/GridWorld-v0"`, an id registered in this process);
- gymnasium's `"module:Env-v0"` form: the module is imported first, here and in every worker;
- an id plus `modules=("mypkg.envs",)` (the CLI's `--env-module`);
- a factory: any callable returning a `gymnasium.Env`, registered under a generated id.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import uuid
from pathlib import Path
from typing import Callable, Iterable

import gymnasium as gym

FACTORY_NAMESPACE = "lfo_ray_factory"


class EnvId(str):
    """An env id that makes its env available wherever it is unpickled (see the module docstring)."""

    modules: tuple[str, ...]
    search_path: tuple[str, ...]
    spec_bytes: bytes | None

    def __new__(cls, env_id: str, modules: Iterable[str] = (), search_path: Iterable[str] = (),
                spec_bytes: bytes | None = None) -> "EnvId":
        self = super().__new__(cls, env_id)
        self.modules = tuple(modules)
        self.search_path = tuple(search_path)
        self.spec_bytes = spec_bytes
        return self

    def __reduce__(self):
        return _arrive, (str(self), self.modules, self.search_path, self.spec_bytes)

    def with_module_root(self, module: str) -> "EnvId":
        """This id, also carrying the directory `module` is imported from (e.g. a policy's)."""
        import_env_module(module)
        root = _module_root(module)
        extra = (root,) if root and root not in self.search_path else ()
        return EnvId(self, self.modules, self.search_path + extra, self.spec_bytes)

    @property
    def bare(self) -> str:
        """The registry id without gymnasium's "module:" prefix."""
        return bare_id(self)


def bare_id(env_id: str) -> str:
    """`"mypkg.envs:MyEnv-v0"` -> `"MyEnv-v0"`; other ids unchanged."""
    return env_id.split(":", 1)[1] if ":" in env_id else env_id


def _arrive(env_id: str, modules: tuple[str, ...], search_path: tuple[str, ...],
            spec_bytes: bytes | None) -> EnvId:
    """Unpickling an EnvId: make its env makeable in this process, then return the id."""
    arrived = EnvId(env_id, modules, search_path, spec_bytes)
    prepare(arrived)
    return arrived


def prepare(env_id: EnvId) -> None:
    """Extends sys.path, imports the modules and registers the carried spec, once per process."""
    for directory in env_id.search_path:
        if directory not in sys.path and Path(directory).is_dir():
            sys.path.append(directory)
    for module in env_id.modules:
        import_env_module(module)
    name = env_id.bare
    if env_id.spec_bytes is not None and name not in gym.registry:
        import cloudpickle

        gym.registry[name] = cloudpickle.loads(env_id.spec_bytes)


def import_env_module(module: str) -> None:
    """Imports the user's module that registers envs; a clear error names it when it is missing."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise ValueError(
            f"env module {module!r} cannot be imported ({error}); expected a module on the Python "
            "path (set PYTHONPATH or run from its directory) that registers the env with gym.register"
        ) from None


def _module_root(module: str) -> str | None:
    """The sys.path directory that `module` was imported from (None for built-in modules)."""
    top = module.split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    origin = Path(spec.origin).resolve()
    return str(origin.parent.parent if origin.name == "__init__.py" else origin.parent)


def _entry_module(spec: gym.envs.registration.EnvSpec) -> str | None:
    entry = spec.entry_point
    if isinstance(entry, str):
        return entry.split(":")[0]
    return getattr(entry, "__module__", None)


def portable_env(env: str | Callable[..., gym.Env], modules: Iterable[str] = ()) -> EnvId:
    """The EnvId of an id, a "module:Env-v0" id, or an env factory, registered in this process.

    Raises ValueError naming the env when it is unknown, listing the ids lfo-ray ships.
    """
    from lfo_ray.envs import env_spec

    if isinstance(env, EnvId) and not modules:
        prepare(env)
        return env
    modules = tuple(modules)
    for module in modules:
        import_env_module(module)
    if callable(env) and not isinstance(env, str):
        return _factory_id(env)
    if not isinstance(env, str):
        raise ValueError(f"env must be an id, a 'module:Env-v0' id or a callable returning a "
                         f"gymnasium Env, got {type(env).__name__}")
    spec = env_spec(env)
    if ":" in env:
        modules = (env.split(":", 1)[0], *modules)
    roots = {_module_root(m) for m in (*modules, _entry_module(spec) or "") if m and m != "__main__"}
    spec_bytes = None
    if callable(spec.entry_point) or _entry_module(spec) == "__main__":
        import cloudpickle

        spec_bytes = cloudpickle.dumps(spec)
    return EnvId(env, modules, sorted(r for r in roots if r), spec_bytes)


def _factory_id(factory: Callable[..., gym.Env]) -> EnvId:
    """Registers `factory` under a new id (its name plus a random suffix) and returns it."""
    import cloudpickle

    name = re.sub(r"[^\w.-]", "_", getattr(factory, "__name__", "env")).strip("_") or "env"
    env_id = f"{FACTORY_NAMESPACE}/{name}-{uuid.uuid4().hex[:8]}-v0"
    gym.register(id=env_id, entry_point=factory)
    probe = gym.make(env_id)
    try:
        if not isinstance(probe.unwrapped, gym.Env):
            raise ValueError(f"env factory {name!r} returned {type(probe.unwrapped).__name__}, "
                             "expected a gymnasium.Env")
    finally:
        probe.close()
    spec_bytes = cloudpickle.dumps(gym.spec(env_id))
    return EnvId(env_id, (), (), spec_bytes)

