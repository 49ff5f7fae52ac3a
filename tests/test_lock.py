"""The locked install: the lock files agree with each other, with pyproject.toml's ranges, with the
README's set-up commands and with CI, so that a fresh machine installs what was tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
TEST_LOCK = ROOT / "requirements-test.lock"
RUN_LOCK = ROOT / "requirements-run.lock"


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a pip-compile lock file; each must carry
    at least one hash (pip then installs in hash-checking mode)."""
    text = path.read_text()
    found: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.split("\n", 1)[0]
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", first)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{path.name}: {first.strip()} has no hash"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def project() -> dict[str, list[Requirement]]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "run": [Requirement(r) for r in meta["dependencies"]],
        "test": [Requirement(r) for r in meta["optional-dependencies"]["test"]],
        "postgres": [Requirement(r) for r in meta["optional-dependencies"]["postgres"]],
    }


def test_the_run_lock_is_the_test_lock_without_the_test_tools() -> None:
    run, test = pins(RUN_LOCK), pins(TEST_LOCK)
    assert run, "the run lock pins nothing"
    differ = {name: (version, test.get(name)) for name, version in run.items() if test.get(name) != version}
    assert differ == {}, "the run lock pins these differently from the test lock"
    assert {"pytest", "ruff", "mypy"} <= set(test) - set(run)


@pytest.mark.parametrize(
    ("lock", "groups"), [(RUN_LOCK, ("run", "postgres")), (TEST_LOCK, ("run", "test", "postgres"))]
)
def test_every_dependency_is_locked_within_its_range(lock: Path, groups: tuple[str, ...]) -> None:
    locked = pins(lock)
    wanted = [r for g in groups for r in project()[g]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock.name} does not pin {name}"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock.name} pins {name}=={locked[name]}, outside pyproject.toml's {requirement}"
        )
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, build):  # --no-build-isolation builds with the locked ones
        name = canonicalize_name(requirement.name)
        assert name in locked and requirement.specifier.contains(locked[name]), (name, locked.get(name))


def test_the_readme_and_ci_install_from_the_lock_files() -> None:
    """Both README set-up commands and .ci/run install from a lock file, then Concerto itself
    without resolving anything more; the README names the locked HiGHS."""
    readme = (ROOT / "README.md").read_text()
    install = "pip install --no-deps --no-build-isolation -e ."
    assert f"pip install -r requirements-run.lock && {install} && concerto demo" in readme
    assert f"pip install -r requirements-test.lock && {install} && pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"pip install -r requirements-test.lock && {install} && pytest" in ci
    assert f"HiGHS (highspy) {pins(TEST_LOCK)['highspy']}" in readme
