"""docker/: static checks of the images and the compose file, and the entrypoint run outside Docker.

No Docker engine runs here, so the Dockerfiles and compose.yaml are parsed: every COPY source
exists, versions are pinned to what the tests run with, the user is not root, the token never
enters an image, the dashboard is published on loopback, and every command and flag exists.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.conftest import REPO

DOCKER = REPO / "docker"
BIN = Path(sys.executable).parent
DOCKERFILES = ("Dockerfile.cpu", "Dockerfile.cuda")
TORCH_VERSION = "2.13.0"
RAY_VERSION = "2.60.0"


def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def substitute(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


class Image:
    """What a Dockerfile builds, as far as the checks need: args, copies, user, workdir, commands."""

    def __init__(self, path: Path) -> None:
        self.instructions = parse_dockerfile(path)
        self.args: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.copies: list[tuple[list[str], str]] = []  # (sources in the context, destination)
        self.user = "root"
        self.workdir = "/"
        for keyword, args in self.instructions:
            if keyword == "ARG" and "=" in args:
                name, value = args.split("=", 1)
                self.args[name] = value
            elif keyword == "ENV":
                for item in shlex.split(args):
                    name, _, value = item.partition("=")
                    self.env[name] = value
            elif keyword == "COPY":
                words = [w for w in shlex.split(args) if not w.startswith("--")]
                assert not args.startswith("--from"), "multi-stage copies are not expected"
                self.copies.append((words[:-1], words[-1]))
            elif keyword == "USER":
                self.user = args
            elif keyword == "WORKDIR":
                self.workdir = args

    def value(self, keyword: str) -> list[str]:
        return [substitute(a, self.args) for k, a in self.instructions if k == keyword]

    def source_of(self, image_path: str) -> Path | None:
        """The repository file or folder that provides `image_path` (relative: to WORKDIR)."""
        path = PurePosixPath(self.workdir) / image_path
        for sources, destination in self.copies:
            for source in sources:
                target = PurePosixPath(destination)
                if destination.endswith("/"):
                    target = target / PurePosixPath(source).name
                if path == target or target in path.parents:
                    return REPO / source / path.relative_to(target)
        return None


@pytest.fixture(scope="module", params=DOCKERFILES)
def image(request) -> tuple[str, Image]:
    return request.param, Image(DOCKER / request.param)


def test_base_image_and_versions_are_pinned(image):
    name, built = image
    (base,) = built.value("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), f"{name}: unpinned base image {base!r}"
    installs = " ".join(run for run in built.value("RUN") if "pip install" in run)
    requirements = [w for w in shlex.split(installs) if re.match(r"^[A-Za-z][\w\-\[\],]*(==|>|<|~)", w)]
    assert requirements and all("==" in r for r in requirements), requirements
    assert f"torch=={TORCH_VERSION}" in requirements
    assert f"ray[default,rllib,tune]=={RAY_VERSION}" in requirements
    if name.endswith("cpu"):
        assert built.args["TORCH_INDEX"].endswith("/whl/cpu")
    else:
        assert "TORCH_INDEX" not in built.args and built.env["NVIDIA_VISIBLE_DEVICES"] == "all"


def test_pins_match_what_the_tests_run():
    import ray
    import torch

    assert torch.__version__.split("+")[0] == TORCH_VERSION
    assert ray.__version__ == RAY_VERSION
    assert '"ray[default,rllib,tune]>=2.60,<2.61"' in (REPO / "pyproject.toml").read_text()


def test_every_copy_source_exists(image):
    name, built = image
    assert built.copies
    for sources, _ in built.copies:
        for source in sources:
            assert (REPO / source).exists(), f"{name}: COPY source {source} missing"
            assert "ray_auth_token" not in source


def test_user_is_not_root_and_token_stays_out(image):
    name, built = image
    assert built.user not in ("root", "0") and any("useradd" in r and built.user in r for r in built.value("RUN"))
    assert built.env.get("RAY_AUTH_MODE") == "token"
    assert not [k for k in {**built.env, **built.args} if k in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")]
    ignore = (DOCKER / f"{name}.dockerignore").read_text().split()
    assert "docker/ray_auth_token" in ignore and ".venv" in ignore
    assert "ray_auth_token" in (DOCKER / ".gitignore").read_text().split()


def test_entrypoint_and_command_exist(image):
    name, built = image
    (entrypoint,) = built.value("ENTRYPOINT")
    (command,) = built.value("CMD")
    entrypoint, command = json.loads(entrypoint), json.loads(command)  # exec form
    script = built.source_of(entrypoint[0])
    assert script is not None and script.is_file() and os.access(script, os.X_OK), entrypoint
    assert (BIN / command[0]).exists(), f"{command[0]} is not installed by the package"
    # The shipped demonstrations and default search spaces are in the image's working directory.
    assert built.source_of("lfo_ray/demos/GridWorld-v0.parquet").is_file()
    assert built.source_of("experiments/search_spaces/bc.json").is_file()


def test_entrypoint_runs_outside_docker(tmp_path):
    image = Image(DOCKER / "Dockerfile.cpu")
    entrypoint = json.loads(image.value("ENTRYPOINT")[0])
    command = json.loads(image.value("CMD")[0])
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **image.env}
    result = subprocess.run([str(image.source_of(entrypoint[0])), *command], env=env,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "algorithms:" in result.stdout and "lfo_ray/GridWorld-v0" in result.stdout
    missing = subprocess.run([str(image.source_of(entrypoint[0])), "true"], capture_output=True, text=True,
                             env={**env, "RAY_AUTH_TOKEN_PATH": str(tmp_path / "no_token")}, timeout=60)
    assert missing.returncode == 2 and "RAY_AUTH_TOKEN_PATH" in missing.stderr


def _default(text: str) -> str:
    """Compose interpolation with the defaults: ${VAR:-default} -> default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(text))


def test_compose_cluster():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    head, worker = services["head"], services["worker"]
    assert head["command"][:3] == ["ray", "start", "--head"]
    assert "--address=head:6379" in worker["command"] and int(_default(worker["deploy"]["replicas"])) >= 1
    for name, service in services.items():
        build = service["build"]
        context = DOCKER / build["context"]
        assert (context / build["dockerfile"]).is_file(), name
        assert service["environment"]["RAY_AUTH_MODE"] == "token", name
        (secret,) = service["secrets"]
        assert service["environment"]["RAY_AUTH_TOKEN_PATH"] == f"/run/secrets/{secret}"
        for port in service.get("ports", []):
            host, _, _ = _default(port).rpartition(":")[0].rpartition(":")
            assert host == "127.0.0.1", f"{name} publishes {port} beyond loopback by default"
    assert [p for p in head["ports"] if p.endswith(":8265")], "dashboard / job API not published"
    token = compose["secrets"][secret]["file"]
    assert (DOCKER / token).parent == DOCKER and Path(token).name in (DOCKER / ".gitignore").read_text()


def test_compose_commands_and_flags_exist():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    image = Image(DOCKER / "Dockerfile.cpu")
    helps: dict[tuple[str, ...], str] = {}
    for name, service in compose["services"].items():
        command = [_default(word) for word in service["command"]]
        assert (BIN / command[0]).exists(), f"{name}: {command[0]} not installed"
        ray_part = command[:command.index("--")] if "--" in command else command
        subcommand = tuple(w for w in ray_part[1:3] if not w.startswith("-"))
        if subcommand not in helps:
            helps[subcommand] = subprocess.run([str(BIN / "ray"), *subcommand, "--help"], capture_output=True,
                                               text=True, timeout=120).stdout
        for flag in (w.split("=")[0] for w in ray_part if w.startswith("--")):
            assert flag in helps[subcommand], f"{name}: ray {' '.join(subcommand)} has no {flag}"
        if "--" in command:  # the job's own command, as the head runs it in the image's WORKDIR
            job = command[command.index("--") + 1:]
            assert (BIN / job[0]).exists()
            demos = job[job.index("--demos") + 1]
            assert image.source_of(demos) is not None and image.source_of(demos).is_file(), demos
    health = compose["services"]["head"]["healthcheck"]["test"]
    assert health[:3] == ["CMD", "ray", "health-check"]
    assert subprocess.run([str(BIN / "ray"), "health-check", "--help"], capture_output=True,
                          timeout=120).returncode == 0
