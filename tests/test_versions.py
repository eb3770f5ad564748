"""pyproject.toml's floors are the versions scripts/check_colab.sh runs the chapters with.

tests/floor-versions.txt pins the lowest versions pyproject.toml admits, and
tests/colab-versions.txt Colab's versions, which pyproject.toml must admit (Colab's
cell installs attn_lib with --no-deps, so nothing would warn a reader).
"""

import pathlib
import re
import tomllib

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parent.parent


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name):
    """({package: version}, python) from a tests/NAME-versions.txt file."""
    text = (ROOT / "tests" / f"{name}-versions.txt").read_text()
    found = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.M))
    python = re.search(r"^# python: (\d+\.\d+)", text, flags=re.M).group(1)
    return {key.lower(): value for key, value in found.items()}, python


def requirements():
    """Every requirement of attn_lib, the `tf` extra included."""
    return [Requirement(r) for r in [*project()["dependencies"],
                                     *project()["optional-dependencies"]["tf"]]]


def test_each_floor_in_pyproject_is_the_version_floor_versions_pins():
    floor, python = pins("floor")
    assert project()["requires-python"] == f">={python}"
    for requirement in requirements():
        (specifier,) = requirement.specifier  # one lower bound each
        assert specifier.operator == ">=", requirement
        assert Version(specifier.version) == Version(floor[requirement.name]), requirement


def test_colab_versions_are_admitted_by_pyproject():
    colab, python = pins("colab")
    assert SpecifierSet(project()["requires-python"]).contains(python)
    listed = [r for r in requirements() if r.name in colab]  # Colab's list has no pillow
    assert len(listed) >= 6
    for requirement in listed:
        assert requirement.specifier.contains(colab[requirement.name]), requirement
