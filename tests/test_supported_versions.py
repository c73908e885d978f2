"""The supported versions are stated once, and everywhere the same.

``pyproject.toml`` declares the lowest version of every runtime dependency;
CI's floor job (``.ci/run``) installs exactly those versions from
``.ci/constraints-floor.txt`` and runs the suite on them; README.md's table
and the documentation's installation section tell users the same floors.
These tests keep the four in step, so that a floor is never raised or
lowered in one place only.
"""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="tomllib arrived in Python 3.11")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "constraints-floor.txt"
README = ROOT / "README.md"
INSTALLATION = ROOT / "docs" / "index.rst"

pytestmark = pytest.mark.skipif(
    not all(path.is_file() for path in (PYPROJECT, CONSTRAINTS, README, INSTALLATION)),
    reason="not run from a checkout of the repository (pyproject.toml, "
    ".ci/constraints-floor.txt, README.md or docs/index.rst is missing)",
)


def _project():
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)["project"]


def _declared_floors():
    """{canonical name: Version} of pyproject.toml's runtime dependencies."""
    floors = {}
    for line in _project()["dependencies"]:
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert [s.operator for s in specifiers] == [">="], (
            f"{line!r}: a runtime dependency declares its floor (>=) and "
            "nothing else, which CI's floor job then installs"
        )
        floors[canonicalize_name(requirement.name)] = Version(specifiers[0].version)
    return floors


def _pins():
    """{canonical name: Version} of the constraints file's == pins."""
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r}: the floor job pins with =="
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _readme_table():
    """{name as the README writes it: version} of its supported-versions table."""
    section = README.read_text(encoding="utf-8").split("## Supported versions")[1]
    section = section.split("\n## ")[0]
    rows = re.findall(r"^\| ([^|]+?) \| ([0-9][0-9.]*) \|$", section, re.MULTILINE)
    return {name: Version(version) for name, version in rows}


def test_every_runtime_dependency_is_pinned_at_its_declared_floor():
    floors, pins = _declared_floors(), _pins()
    assert floors, "pyproject.toml declares no runtime dependency"
    for name, floor in floors.items():
        assert name in pins, f"the floor job does not pin {name}"
        # The floor itself (1.24 is 1.24.0), not a later patch release.
        assert pins[name] == floor, (
            f"{name}: declared >={floor}, the floor job installs {pins[name]}"
        )


def test_readme_states_the_declared_floors():
    table = _readme_table()
    expected = {
        canonicalize_name(name): floor for name, floor in _declared_floors().items()
    }
    expected["python"] = Version(_project()["requires-python"].removeprefix(">="))
    assert {canonicalize_name(name): v for name, v in table.items()} == expected


def test_installation_section_states_the_declared_floors():
    # The documentation names each dependency as the README's table does.
    installation = INSTALLATION.read_text(encoding="utf-8").split("Installation")[1]
    installation = " ".join(installation.split())  # line breaks are spaces
    for name, version in _readme_table().items():
        assert f"{name} {version}" in installation, f"{name} {version}"
