"""The sdist and the wheel, built by the project's build backend (hatchling, through the PEP 517
hooks that `uv build` and `python -m build` call): both carry the MIT LICENSE the metadata
names, the wheel holds the package and nothing else, and the sdist holds everything the
README's commands (`python3 tasks.py demo`, `python3 tasks.py test`) need, so that they run
from the unpacked sdist as from a clone. As `uv build` does, the wheel is built from the
unpacked sdist."""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

hatchling_build = pytest.importorskip("hatchling.build")

ROOT = Path(__file__).resolve().parents[2]
# What the README's commands read outside these folders: the configuration, tasks.py, the
# pages the docs include, the pre-commit hook (tests/tooling/test_check.py reads it), CI's
# script, and .gitignore, which keeps caches out of an sdist built again from the unpacked one
#: The modules beside the package: the console script's launcher and the pytest plugin.
BESIDE = {"_lambdascope_launcher.py", "lambdascope_pytest.py"}
TOP_FILES = BESIDE | {
    "pyproject.toml",
    "LICENSE",
    "tasks.py",
    "README.md",
    "CHANGELOG.md",
    "mkdocs.yml",
    ".pre-commit-hooks.yaml",
    ".gitignore",
    ".ci/run",
}
FOLDERS = ("lambdascope", "tests", "docs", "examples", "benchmarks")
# Python 3.12+ warns unless extractall() is told how to treat what it unpacks
SAFE = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def files_under(folder: Path) -> set[str]:
    """The files under *folder*, relative, without bytecode (the checkout's own)."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@dataclass
class Built:
    sdist: set[str]  # the sdist's file names, without its top folder
    wheel: dict[str, bytes]  # the wheel's files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    unpacked = tmp_path_factory.mktemp("unpacked")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # the hooks build the project in the working directory
        sdist = out / hatchling_build.build_sdist(str(out))
        with tarfile.open(sdist) as archive:
            members = [m.name for m in archive.getmembers() if m.isfile()]
            archive.extractall(unpacked, **SAFE)
        patch.chdir(unpacked / members[0].split("/", 1)[0])
        wheel = out / hatchling_build.build_wheel(str(out))
    with zipfile.ZipFile(wheel) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    return Built({name.split("/", 1)[1] for name in members}, contents)


def metadata(built: Built) -> tuple[str, list[str]]:
    """The wheel's dist-info folder and its METADATA headers."""
    (folder,) = {name.split("/")[0] for name in built.wheel if ".dist-info/" in name}
    headers = built.wheel[f"{folder}/METADATA"].decode().split("\n\n", 1)[0]
    return folder, headers.splitlines()


def test_the_repository_has_the_mit_license_the_metadata_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    copyright_line = next(line for line in text.splitlines() if line.startswith("Copyright"))
    assert copyright_line.endswith(" lambdascope developers")
    assert "Permission is hereby granted, free of charge" in text


def test_the_wheel_carries_the_license_and_says_it_is_mit(built: Built) -> None:
    folder, headers = metadata(built)
    assert "License-Expression: MIT" in headers
    assert "License-File: LICENSE" in headers
    assert built.wheel[f"{folder}/licenses/LICENSE"] == (ROOT / "LICENSE").read_bytes()


def test_the_wheel_holds_the_package_and_nothing_else(built: Built) -> None:
    folder, _ = metadata(built)
    package = {f"lambdascope/{name}" for name in files_under(ROOT / "lambdascope")}
    assert {name for name in built.wheel if not name.startswith(f"{folder}/")} == package | BESIDE
    assert "lambdascope/py.typed" in package  # the types ship
    assert "lambdascope/exec-wrapper" in package  # and the exec wrapper the layer uses


def test_the_sdist_holds_what_the_readme_commands_need(built: Built) -> None:
    expected = TOP_FILES | {
        f"{folder}/{name}" for folder in FOLDERS for name in files_under(ROOT / folder)
    }
    assert built.sdist - {"PKG-INFO"} == expected
