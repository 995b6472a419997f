"""The public types are what the contract says: mypy accepts good code and rejects bad code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]


# Code mypy must reject, and what its message must say.
BAD_CODE = [
    (
        """
            from lambdascope import init_resource
            @init_resource
            def s3() -> int:
                return 1
            s3().upper()
            """,
        '"int" has no attribute "upper"',
    ),
    (
        """
            from lambdascope import init_resource
            @init_resource
            def needs(region: str) -> int:
                return 1
            """,
        'expected "Callable[[], int]"',
    ),
    (
        """
            from lambdascope import init_resource
            @init_resource(ttl=60, retries=3)
            def s3() -> int:
                return 1
            """,
        "No overload variant",
    ),
    (
        """
            from lambdascope import handler
            @handler
            def lambda_handler(event: dict[str, int], context: object) -> int:
                return 1
            lambda_handler("not a dict", None)
            """,
        'incompatible type "str"',
    ),
    (
        """
            from lambdascope import handler
            @handler
            async def lambda_handler(event: object, context: object) -> int:
                return 1
            x: str = lambda_handler({}, None)
            """,
        'expression has type "int"',
    ),
    (
        """
            from lambdascope.testing import LambdaEnvironment
            LambdaEnvironment(lambda event, context: None, guard="loud")
            """,
        'Argument "guard" to "LambdaEnvironment" has incompatible type',
    ),
    (
        """
            from lambdascope.testing import LambdaContext
            LambdaContext().memory_limit_in_mb + 1
            """,
        'Unsupported operand types for + ("str" and "int")',
    ),
    (
        """
            from lambdascope.testing import ManagedInstances
            ManagedInstances("app:lambda_handler", processes="2")
            """,
        'Argument "processes" to "ManagedInstances" has incompatible type "str"',
    ),
    (
        """
            from lambdascope.testing import ManagedInstances
            ManagedInstances("app:lambda_handler").run({}).result.anything + 1
            x: int = ManagedInstances("app:lambda_handler").run({}).pid + ""
            """,
        'Unsupported operand types for + ("int" and "str")',
    ),
]


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What one ``mypy --strict`` run says about each file: the positive typing file and every
    snippet of BAD_CODE, each a module of its own (``bad_0`` ...), by module name.

    One run for all: most of a run is mypy's start-up and its analysis of lambdascope.
    """
    folder = tmp_path_factory.mktemp("typing")
    sources = {"check_types": (ROOT / "tests" / "typing" / "check_types.py").read_text()}
    for number, (snippet, _) in enumerate(BAD_CODE):
        sources[f"bad_{number}"] = textwrap.dedent(snippet)
    for name, source in sources.items():
        (folder / f"{name}.py").write_text(source)
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(folder / ".mypy_cache"),
            "--config-file",
            "",
            *(str(folder / f"{name}.py") for name in sources),
        ]
    )
    assert (status, stderr) == (1, ""), stdout + stderr  # errors found, and no crash
    said: dict[str, list[str]] = {name: [] for name in sources}
    for line in stdout.splitlines():
        path, _, message = line.partition(":")
        if path.endswith(".py"):
            said[Path(path).stem].append(message)
    assert sum(map(len, said.values())) == len(stdout.splitlines()) - 1, stdout  # + "Found ..."
    return said


def test_the_positive_typing_file_passes(mypy_output: dict[str, list[str]]) -> None:
    assert mypy_output["check_types"] == []


@pytest.mark.parametrize(("number", "expected"), [(n, e) for n, (_, e) in enumerate(BAD_CODE)])
def test_bad_code_is_rejected(
    mypy_output: dict[str, list[str]], number: int, expected: str
) -> None:
    said = mypy_output[f"bad_{number}"]
    assert any(" error: " in line for line in said), said
    assert any(expected in line for line in said), said
