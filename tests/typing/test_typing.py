"""The public types are what the contract says: mypy accepts good code and rejects bad code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]


def run_mypy(tmp_path: Path, source: str) -> tuple[int, str]:
    target = tmp_path / "snippet.py"
    target.write_text(textwrap.dedent(source))
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--config-file",
            "",
            str(target),
        ]
    )
    return status, stdout + stderr


def test_the_positive_typing_file_passes(tmp_path: Path) -> None:
    source = (ROOT / "tests" / "typing" / "check_types.py").read_text()
    status, output = run_mypy(tmp_path, source)
    assert status == 0, output


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
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
    ],
)
def test_bad_code_is_rejected(tmp_path: Path, snippet: str, expected: str) -> None:
    status, output = run_mypy(tmp_path, snippet)
    assert status == 1
    assert expected in output, output
