"""binder/ stays a lean reader's environment that matches requirements.txt and the chapters.

repo2docker (mybinder.org) builds the Binder launch button's and Thebe's environment from
binder/ alone: runtime.txt names the Python, requirements.txt the pinned packages,
postBuild installs TensorFlow (and trims it in the same image layer) and attn_lib.
benchmarks/binder_env.py builds the environment the same way and measures it.
"""

import ast
import json
import pathlib
import re
import sys
import tomllib
from importlib import metadata

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Build, test and lint tools of the book: a reader on Binder never runs them.
TOOLS = {"jupyter-book", "jupyter-cache", "myst-nb", "myst-parser", "sphinx", "docutils",
         "pydata-sphinx-theme", "sphinx-book-theme", "sphinx-thebe", "sphinxcontrib-bibtex",
         "pybtex", "pytest", "pytest-xdist", "hypothesis", "nbval", "coverage", "ruff",
         "playwright"}
TOOL_PREFIXES = ("sphinx", "pytest", "myst-", "jupyter-book")
# Every environment has these already; `pip freeze`, and so requirements.txt, leaves them out.
INSTALLER_PACKAGES = {"pip", "setuptools", "wheel"}
# Files that would make repo2docker ignore binder/requirements.txt or install the
# repository editable (pyproject.toml and setup.py trigger `pip install -e .`).
OVERRIDING_FILES = {"Dockerfile", "environment.yml", "pyproject.toml", "setup.py", "Pipfile",
                    "Pipfile.lock", "default.nix", "Project.toml", "install.R"}


def normalised(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path):
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pins(path):
    """{normalised name: version} for every NAME==VERSION line of a requirements file."""
    found = {}
    for line in requirement_lines(path):
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            found[normalised(match.group(1))] = match.group(2)
    return found


def postbuild_code():
    """binder/postBuild without its comments, continued lines joined."""
    script = (BINDER / "postBuild").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    return code.replace("\\\n", " ")


def postbuild_installs():
    """The arguments of each `pip install` in binder/postBuild."""
    return [match.split()
            for match in re.findall(r"-m pip install ([^\n;&|]*)", postbuild_code())]


def postbuild_pins():
    """{normalised name: version} for every NAME==VERSION that binder/postBuild installs."""
    found = {}
    for arguments in postbuild_installs():
        for argument in arguments:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", argument)
            if match:
                found[normalised(match.group(1))] = match.group(2)
    return found


def environment_pins():
    """Every pinned package of the Binder environment: binder/requirements.txt and postBuild."""
    return {**pins(BINDER / "requirements.txt"), **postbuild_pins()}


def binder_roots():
    """The packages binder/requirements.txt was generated from (its `# Roots:` line)."""
    text = (BINDER / "requirements.txt").read_text()
    match = re.search(r"^# Roots: (.+)$", text, re.M)
    assert match, "binder/requirements.txt has no '# Roots: ...' line"
    return [normalised(name) for name in match.group(1).split()]


def runtime_python():
    """'X.Y' from binder/runtime.txt, which must read exactly python-X.Y."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt should read 'python-X.Y'; it reads {text!r}"
    return match.group(1)


def linux_markers(python):
    """Marker values of Linux with Python `python` (X.Y), as Binder's environment has them."""
    return {**default_environment(), "python_version": python,
            "python_full_version": f"{python}.0", "sys_platform": "linux",
            "platform_system": "Linux"}


def dependency_closure(roots, python):
    """Normalised names of `roots` and everything they need on Linux with Python `python`.

    Reads the metadata of the packages installed in this test's environment (.venv holds
    requirements.txt, so the same versions as the pins) and follows requirements whose
    markers hold, extras included (`jsonschema[format-nongpl]` brings its extra's packages).
    """
    environment = linux_markers(python)
    seen, queue = set(), [(name, "") for name in roots]
    while queue:
        name, extra = queue.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not marker.evaluate({**environment, "extra": extra}):
                continue
            if marker is None and extra:
                continue  # already followed for the package without extras
            dependency = normalised(requirement.name)
            queue.append((dependency, ""))
            queue.extend((dependency, normalised(e)) for e in requirement.extras)
    return {name for name, _ in seen}


def unmet_requirements(distribution, pinned, python):
    """What `distribution` needs (no extras, on Linux with `python`) that `pinned` lacks.

    `pinned` is {normalised name: version}; the requirements come from the metadata of the
    copy installed in this test's environment. Packages every environment has are not asked.
    """
    unmet = []
    for line in metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(
                {**linux_markers(python), "extra": ""}):
            continue
        name = normalised(requirement.name)
        if name in INSTALLER_PACKAGES:
            continue
        if name not in pinned:
            unmet.append(f"{line} (not pinned)")
        elif not requirement.specifier.contains(pinned[name], prereleases=True):
            unmet.append(f"{line} (pinned {name}=={pinned[name]})")
    return unmet


def imported_modules(source, optional_ok=True):
    """Top-level modules that `source` (Python, IPython magics allowed) imports.

    An import inside `try:` with an ImportError handler, or under an `if` that tests for
    Colab, is optional and left out when `optional_ok`.
    """
    tree = ast.parse(TransformerManager().transform_cell(source))
    optional = set()
    if optional_ok:
        for node in ast.walk(tree):
            guarded = []
            if isinstance(node, ast.Try) and any(
                    "ImportError" in ast.unparse(h.type or ast.Name("ImportError"))
                    for h in node.handlers):
                guarded = node.body
            elif isinstance(node, ast.If) and "colab" in ast.unparse(node.test):
                guarded = node.body
            for statement in guarded:
                optional.update(id(n) for n in ast.walk(statement))
    modules = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def chapter_and_library_imports():
    """{module: [where]} for the code cells of every notebook and every attn_lib file."""
    where = {}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                for module in imported_modules("".join(cell["source"])):
                    where.setdefault(module, []).append(f"{path.stem} cell {index}")
    for path in sorted((ROOT / "attn_lib").rglob("*.py")):
        for module in imported_modules(path.read_text()):
            where.setdefault(module, []).append(str(path.relative_to(ROOT)))
    return where


# --- binder/requirements.txt ------------------------------------------------------------

def test_every_binder_line_is_an_exact_pin():
    lines = requirement_lines(BINDER / "requirements.txt")
    loose = [line for line in lines
             if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][^\s;]*", line)]
    assert not loose, f"binder/requirements.txt lines that are not NAME==VERSION: {loose}"


def test_every_binder_pin_is_the_version_requirements_txt_pins():
    binder, book = environment_pins(), pins(ROOT / "requirements.txt")
    unknown = sorted(set(binder) - set(book))
    assert not unknown, f"pinned in binder/ but not in requirements.txt: {unknown}"
    differ = {name: (version, book[name]) for name, version in binder.items()
              if book[name] != version}
    assert not differ, f"binder/ pin vs requirements.txt pin: {differ}"


def test_binder_pins_are_exactly_the_roots_and_their_dependencies():
    binder = environment_pins()
    installed = {name: metadata.version(name) for name in binder}
    stale = {name: (installed[name], v) for name, v in binder.items() if installed[name] != v}
    assert not stale, f"this environment differs from the pins, reinstall .venv: {stale}"
    closure = dependency_closure(binder_roots(), runtime_python())
    missing = sorted(closure - set(binder) - INSTALLER_PACKAGES)
    extra = sorted(set(binder) - closure)
    assert not missing, f"needed by the roots but not pinned (pip would choose): {missing}"
    assert not extra, f"pinned but not needed by the roots: {extra}"


def test_dependency_closure_notices_a_missing_dependency():
    # keras needs absl-py, h5py, ml-dtypes, namex, optree, rich, numpy and packaging
    closure = dependency_closure(["keras"], runtime_python())
    assert {"keras", "absl-py", "h5py", "namex", "optree", "rich"} <= closure
    assert "tensorflow-cpu" not in closure and "jupyterlab" not in closure


# --- TensorFlow, installed and trimmed by postBuild ---------------------------------------

def test_tensorflow_is_installed_by_postbuild_at_the_version_requirements_txt_pins():
    book = pins(ROOT / "requirements.txt")
    assert postbuild_pins() == {"tensorflow-cpu": book["tensorflow-cpu"]}, (
        f"postBuild installs {postbuild_pins()}; requirements.txt pins "
        f"tensorflow-cpu=={book['tensorflow-cpu']}")
    in_requirements = sorted(n for n in pins(BINDER / "requirements.txt")
                             if n.startswith("tensorflow"))
    assert not in_requirements, (
        f"binder/requirements.txt pins {in_requirements}: that layer could not be trimmed")


def test_tensorflow_dependencies_are_all_pinned_in_binder_requirements():
    # postBuild installs tensorflow-cpu with --no-deps: pip adds nothing it needs.
    assert metadata.version("tensorflow-cpu") == postbuild_pins()["tensorflow-cpu"], (
        "this environment's tensorflow-cpu differs from the pin, reinstall .venv")
    unmet = unmet_requirements("tensorflow-cpu", pins(BINDER / "requirements.txt"),
                               runtime_python())
    assert not unmet, f"tensorflow-cpu needs, and binder/requirements.txt lacks: {unmet}"


def test_unmet_requirements_notices_a_missing_or_wrong_pin():
    binder = pins(BINDER / "requirements.txt")
    without_protobuf = {n: v for n, v in binder.items() if n != "protobuf"}
    assert unmet_requirements("tensorflow-cpu", binder, "3.11") == []
    assert [u for u in unmet_requirements("tensorflow-cpu", without_protobuf, "3.11")
            if u.startswith("protobuf")]
    too_old = {**binder, "protobuf": "3.20.0"}
    assert [u for u in unmet_requirements("tensorflow-cpu", too_old, "3.11")
            if "pinned protobuf==3.20.0" in u]
    # extras are not asked for: no CUDA packages
    assert not [u for u in unmet_requirements("tensorflow-cpu", {}, "3.11") if "nvidia" in u]


def test_postbuild_installs_tensorflow_without_dependencies_then_trims_it():
    installs = postbuild_installs()
    tensorflow = [a for a in installs if any(x.startswith("tensorflow-cpu==") for x in a)]
    assert len(tensorflow) == 1, f"postBuild should install tensorflow-cpu once: {installs}"
    assert {"--no-deps", "--no-cache-dir"} <= set(tensorflow[0]), tensorflow[0]
    code = postbuild_code()
    after_install = code[code.index("tensorflow-cpu=="):]
    for trim in (r"rm -rf \S*tensorflow/include", r"strip --strip-unneeded"):
        assert re.search(trim, after_install), (
            f"postBuild does not `{trim}` after installing tensorflow-cpu")


def test_no_build_test_or_lint_tool_is_in_binder():
    binder = environment_pins()
    tools = sorted(n for n in binder if n in TOOLS or n.startswith(TOOL_PREFIXES))
    assert not tools, f"binder/requirements.txt holds tools a reader never runs: {tools}"


def test_binder_pins_satisfy_attn_lib_declared_dependencies():
    binder = environment_pins()
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for line in declared:
        requirement = Requirement(line)
        name = normalised(requirement.name)
        assert name in binder, f"attn_lib needs {line}; binder/ does not pin it"
        assert requirement.specifier.contains(binder[name], prereleases=True), (
            f"attn_lib needs {line}; binder/ pins {name}=={binder[name]}")


# --- the Python -------------------------------------------------------------------------

def test_runtime_txt_names_python_311_or_312_allowed_by_requires_python():
    version = runtime_python()
    assert version in {"3.11", "3.12"}, (
        f"binder/runtime.txt names Python {version}; tensorflow-cpu and h5py at the pinned "
        "versions have wheels for 3.11 and 3.12")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(f"{version}.0"), (
        f"pyproject.toml requires-python {requires!r} excludes binder's Python {version}")


def test_runtime_python_is_the_one_the_chapters_were_executed_with():
    version = runtime_python()
    executed = {json.loads(p.read_text())["metadata"]["language_info"]["version"]
                for p in NOTEBOOKS}
    assert {".".join(v.split(".")[:2]) for v in executed} == {version}, (
        f"chapters executed with Python {sorted(executed)}, binder/runtime.txt names {version}")


# --- attn_lib and the other files of binder/ ---------------------------------------------

def test_attn_lib_is_installed_by_postbuild_without_dependencies_and_not_editable():
    lines = requirement_lines(BINDER / "requirements.txt")
    local = [line for line in lines if line.startswith(("-e", "--editable", ".", "/"))
             or "attn" in line.lower()]
    assert not local, f"binder/requirements.txt installs local code: {local}"
    script = (BINDER / "postBuild").read_text()
    assert script.startswith("#!/bin/bash\n"), "postBuild must be a bash script"
    assert re.search(r"^set -euo pipefail$", script, re.M), (
        "postBuild must stop on the first error, unset variable or failing pipe")
    local_installs = [a for a in postbuild_installs() if "." in a]
    assert len(local_installs) == 1, f"postBuild should install `.` once: {local_installs}"
    arguments = local_installs[0]
    assert "--no-deps" in arguments, f"postBuild should install `.` with --no-deps: {arguments}"
    assert not {"-e", "--editable"} & set(arguments), "postBuild installs attn_lib editable"


def test_binder_holds_nothing_that_overrides_its_requirements():
    present = {p.name for p in BINDER.iterdir()}
    assert {"runtime.txt", "requirements.txt", "postBuild"} <= present
    overriding = sorted(present & OVERRIDING_FILES)
    assert not overriding, f"binder/ holds files repo2docker would use instead: {overriding}"
    assert not (ROOT / ".binder").exists(), "repo2docker refuses both binder/ and .binder/"


# --- the chapters ------------------------------------------------------------------------

def test_binder_installs_every_module_the_chapters_and_attn_lib_import():
    binder = environment_pins()
    providers = metadata.packages_distributions()
    missing = {}
    for module, where in sorted(chapter_and_library_imports().items()):
        if module in sys.stdlib_module_names or module == "attn_lib":
            continue
        distributions = {normalised(d) for d in providers.get(module, [])}
        if not distributions & set(binder):
            missing[module] = (sorted(distributions) or ["no installed package"], where[:2])
    assert not missing, f"imported, but binder/ installs no package for it: {missing}"


def test_import_scan_sees_imports_behind_magics_and_skips_optional_ones():
    cell = ("%matplotlib inline\nimport numpy as np\nfrom PIL import Image\n"
            "try:\n    import myst_nb\nexcept ImportError:\n    pass\n"
            "if 'google.colab' in sys.modules:\n    from google.colab import output\n")
    assert imported_modules(cell) == {"numpy", "PIL"}
    assert imported_modules(cell, optional_ok=False) == {"numpy", "PIL", "myst_nb", "google"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_asks_for_the_kernel_binder_has(path):
    # Thebe and JupyterLab start the kernel named in the notebook; Binder's is python3.
    kernelspec = json.loads(path.read_text())["metadata"]["kernelspec"]
    assert kernelspec["name"] == "python3", f"kernelspec {kernelspec}"


def test_binder_button_and_thebe_build_this_repository():
    # Both ask mybinder.org for repository.url at repository.branch; repo2docker then
    # reads binder/. A thebe_config of its own could point Thebe elsewhere.
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    launch = config["launch_buttons"]
    assert launch.get("binderhub_url", "").rstrip("/") == "https://mybinder.org"
    assert launch.get("thebe") is True
    assert config["repository"]["url"].startswith("https://github.com/")
    thebe = (config.get("sphinx", {}).get("config") or {}).get("thebe_config") or {}
    for key, expected in (("repository_url", config["repository"]["url"]),
                          ("repository_branch", config["repository"]["branch"])):
        assert thebe.get(key, expected) == expected, f"thebe_config.{key} = {thebe[key]!r}"
