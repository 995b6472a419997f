"""``lambdascope check``: find state that leaks between warm invocations, statically.

The checker reads a tree of Lambda code without importing or running it: it finds the
handlers (named in SAM/CloudFormation templates, ``serverless.yml``, CDK, Terraform and
Dockerfiles, decorated with ``@handler``, registered as Powertools routes or crhelper
handlers, or shaped ``def f(event, context)``), follows what they call — across the modules of
the tree — and reports what a warm invocation would get wrong: module-level state written per
request, clients and connections built per invocation, mutable defaults, caches that grow
without bound, lazy initialisation done by hand. See docs/check.md.

``import lambdascope`` never loads this package; the ``lambdascope check`` command does.
"""

from __future__ import annotations

import os
import sys

from lambdascope._errors import LambdascopeError

from . import _config, _deploy, _follow, _parse, _project
from ._model import Project
from ._rules import RULES, SEVERITIES, Finding, Rule, order

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Sequence

    from ._model import Function

__all__ = [
    "MAX_FILE_BYTES",
    "RULES",
    "SECONDS_PER_FILE",
    "CheckError",
    "Finding",
    "Rule",
    "add_arguments",
    "check_paths",
    "check_source",
    "configure_parser",
    "main",
    "run",
]

MAX_FILE_BYTES = _parse.MAX_BYTES
"""Files larger than this (1 MiB) are skipped with an ``LS000`` warning naming them."""
SECONDS_PER_FILE = _parse.SECONDS
"""The time bound (seconds) of the analysis started from one file's handlers."""


class CheckError(LambdascopeError, ValueError):
    """A path given to check does not exist, or is neither ``*.py``, a directory nor a
    deployment file. (A file that cannot be read or parsed is an ``LS000`` finding instead.)
    """


def _ls000(path: str, line: int, message: str) -> Finding:
    return Finding(path, line, 1, "LS000", message)


def _analyse(
    project: Project, handlers: dict[str, list[Function]], seconds: float
) -> list[Finding]:
    failed = [_ls000(path, 1, f"{why}; not analysed") for path, why in project.failed]
    return failed + _follow.check(project, handlers, seconds)


def check_source(
    source: str, filename: str = "<string>", handlers: Iterable[str] = ()
) -> list[Finding]:
    """Check one module's source text; return its findings ordered by line.

    Handlers are found as without deployment files (decorated, ``lambda_handler``, shaped
    ``(event, context)``, registered routes); *handlers* names more: ``"process"``,
    ``"Service.handle"``, or a Lambda handler setting such as ``"app.process"``. Source that
    cannot be parsed gives one ``LS000`` finding.
    """
    parsed, unparsed = _parse.parse_files({filename: source})
    findings = [_ls000(u.path, u.line, u.message) for u in unparsed]
    project = Project(parsed, [os.path.dirname(os.path.abspath(filename))])
    found = {
        m.path: project.find_handlers(m, handlers, by_signature=True)
        for m in project.modules.values()
    }
    return sorted(findings + _analyse(project, found, _parse.SECONDS), key=order)


def _specs(
    project: Project, parsed: list[_parse.Parsed], deployments: list[str], roots: dict[str, str]
) -> list[_deploy.Spec]:
    cdk = [os.path.dirname(os.path.abspath(d)) for d in deployments if d.endswith("cdk.json")]
    specs: list[_deploy.Spec] = []
    for path in deployments:
        if path.endswith((".ts", ".js")):
            full = os.path.abspath(path)
            if not any(full.startswith(root + os.sep) for root in cdk):
                continue
        specs += _deploy.read_specs(path, roots.get(path))
    for source in parsed:  # CDK apps in Python
        imports = project.model.imports(source.path).values()
        if any(ref.dotted.startswith("aws_cdk") for ref in imports):
            specs += _deploy.cdk_specs(source.path, source.tree)
    return specs


def _wanted(name: str) -> bool:
    return _deploy.is_deployment_file(name) or name == "cdk.json"


def check_paths(
    paths: Iterable[str],
    handlers: Iterable[str] = (),
    exclude: Sequence[str] = (),
    *,
    max_bytes: int = MAX_FILE_BYTES,
    seconds: float = SECONDS_PER_FILE,
) -> list[Finding]:
    """Check files and directories (walked recursively); return all findings, ordered.

    Deployment files found in the tree (or given) name the handlers; without any, a
    module-level ``def f(event, context)`` is a handler. Hidden directories, virtual
    environments, ``__pycache__``, ``node_modules``, ``cdk.out`` and installed (vendored)
    packages are skipped, as are paths matching the *exclude* glob patterns.

    Hostile input is bounded: only regular files are read (a FIFO, a device or a symbolic link
    leading out of the checked tree is an ``LS000`` warning), at most *max_bytes* each (a
    larger file is skipped with an ``LS000`` warning), and the analysis started from one
    file's handlers stops after *seconds* (an ``LS000`` warning). A file that fails in any
    other way is an ``LS000`` warning too; the rest is analysed.

    Raises:
        CheckError: a path does not exist or is not something to check.
        ValueError: *max_bytes* or *seconds* is not positive.
    """
    if max_bytes <= 0 or seconds <= 0:
        raise ValueError(
            f"max_bytes and seconds must be positive, got max_bytes={max_bytes!r}, "
            f"seconds={seconds!r}"
        )
    paths = list(paths)
    try:
        found = _project.discover(paths, exclude, _wanted)
    except (FileNotFoundError, ValueError) as exc:
        raise CheckError(str(exc)) from None
    parsed, unparsed = _parse.parse_paths(
        found.sources, max_bytes=max_bytes, seconds=seconds, roots=found.root_of
    )
    roots = [p if os.path.isdir(p) else os.path.dirname(p) or "." for p in paths]
    project = Project(parsed, roots)
    specs = _specs(project, parsed, found.others, found.root_of)
    named = _deploy.resolve(specs, [p.path for p in parsed])
    covered = {os.path.dirname(os.path.abspath(s.source)) + os.sep for s in specs}
    handlers = tuple(handlers)
    findings = [_ls000(path, 1, f"{why}; not analysed") for path, why in found.refused]
    findings += [_ls000(u.path, u.line, u.message) for u in unparsed]
    by_file = {}
    for full, module in project.modules.items():
        by_signature = not _project.is_test_file(project.relative(module.path)) and not any(
            full.startswith(c) for c in covered
        )
        names = handlers + tuple(named.get(os.path.normpath(module.path), {}))
        try:
            by_file[module.path] = project.find_handlers(module, names, by_signature)
        except Exception as exc:
            findings.append(_ls000(module.path, 1, f"{type(exc).__name__}; not analysed"))
    return sorted(findings + _analyse(project, by_file, seconds), key=order)


# ------------------------------------------------------------------------------ CLI


def _codes(value: str) -> tuple[str, ...]:
    import argparse

    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    unknown = [c for c in codes if not any(rule.startswith(c) for rule in RULES)]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(
            f"unknown rule code(s) {', '.join(unknown) or repr(value)}; known: {', '.join(RULES)}"
        )
    return codes


def _positive(kind: type[float]) -> Callable[[str], float]:
    def convert(value: str) -> float:
        import argparse

        try:
            number = kind(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return convert


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``check`` arguments to *parser*."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="*.py files, deployment files or directories (default: `paths` from "
        "[tool.lambdascope] in pyproject.toml)",
    )
    parser.add_argument(
        "--handler",
        action="append",
        default=[],
        metavar="NAME",
        help="also treat NAME as a handler (function, Class.method or module.function); repeatable",
    )
    parser.add_argument(
        "--select",
        type=_codes,
        default=None,
        metavar="CODES",
        help="report only these rules (LS101,LS104; prefixes such as LS10 allowed)",
    )
    parser.add_argument(
        "--ignore", type=_codes, default=None, metavar="CODES", help="do not report these rules"
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip paths matching GLOB; repeatable",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="output format (default text)",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the report to FILE instead of standard output"
    )
    parser.add_argument(
        "--fail-on",
        choices=(*SEVERITIES, "never"),
        default=None,
        help="exit 1 when a finding of this severity or a higher one is reported (default error)",
    )
    parser.add_argument(
        "--max-file-size",
        type=_positive(int),
        default=MAX_FILE_BYTES,
        metavar="BYTES",
        help=f"skip larger files with an LS000 warning (default {MAX_FILE_BYTES})",
    )
    parser.add_argument(
        "--file-timeout",
        type=_positive(float),
        default=SECONDS_PER_FILE,
        metavar="SECONDS",
        help="stop analysing one file's handlers after SECONDS, with an LS000 warning "
        f"(default {SECONDS_PER_FILE:g})",
    )
    parser.add_argument(
        "--no-config",
        action="store_true",
        help="do not read [tool.lambdascope] from pyproject.toml",
    )


def _epilog() -> str:
    rules = "".join(f"  {r.code}  {r.severity:<7}  {r.summary}\n" for r in RULES.values())
    return (
        "rules (code, severity, meaning):\n"
        + rules
        + "\nSuppress one finding with a comment on its line: `# lambdascope: ignore[LS104]` "
        "(several: `ignore[LS101,LS104]`; every rule: `# lambdascope: ignore`).\n"
        "Settings: [tool.lambdascope] in pyproject.toml ("
        + ", ".join(_config.KEYS)
        + ").\nExit status: 0 no finding at or above --fail-on, 1 some, 2 usage error. "
        "A file that cannot be read or parsed is an LS000 warning, never a failed run."
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Make *parser* the ``check`` parser: description, rules in the help, arguments."""
    import argparse

    parser.description = (
        "Statically check Lambda handler code (never importing or running it) for state that "
        "leaks between warm invocations, clients or connections built per invocation, and "
        "mutable defaults. Handlers come from deployment files (SAM/CloudFormation, "
        "serverless.yml, CDK, Terraform, Dockerfile) or, without them, from the code."
    )
    parser.epilog = _epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_arguments(parser)


def _warn(message: str) -> None:
    print(f"lambdascope check: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Check what *args* name, print the report and return the exit status (0, 1 or 2)."""
    from lambdascope import __version__

    from ._report import render

    config: dict[str, list[str] | str] = {}
    base = os.getcwd()
    pyproject = None if args.no_config else _config.find_pyproject(base)
    if pyproject:
        config, warnings = _config.load(pyproject)
        for warning in warnings:
            _warn(warning)
        base = os.path.dirname(pyproject)
    paths = list(args.paths) or [os.path.join(base, p) for p in config.get("paths", [])]
    if not paths:
        print(
            "lambdascope check: error: no PATH given (and no `paths` in [tool.lambdascope])",
            file=sys.stderr,
        )
        return 2
    select = tuple(args.select or [c.upper() for c in config.get("select", [])])
    ignore = tuple(args.ignore or ()) + tuple(c.upper() for c in config.get("ignore", []))
    fail_on = str(args.fail_on or config.get("fail-on", "error"))
    handlers = [*args.handler, *config.get("handlers", [])]
    exclude = [*args.exclude, *config.get("exclude", [])]
    try:
        findings = check_paths(
            paths, handlers, exclude, max_bytes=args.max_file_size, seconds=args.file_timeout
        )
    except CheckError as exc:
        print(f"lambdascope check: error: {exc}", file=sys.stderr)
        return 2
    shown = [
        f
        for f in findings
        if (not select or f.code == "LS000" or f.code.startswith(select))
        and not (ignore and f.code.startswith(ignore))
    ]
    report = render(shown, args.format, __version__)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(report)
    else:
        sys.stdout.write(report)
    counts = {s: sum(f.severity == s for f in shown) for s in SEVERITIES}
    if args.format == "text" or args.output:
        print(
            "lambdascope check: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
            file=sys.stderr,
        )
    if fail_on == "never":
        return 0
    failing = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    return 1 if any(counts[s] for s in failing) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lambdascope check`` with *argv* (default: ``sys.argv[1:]``); return the exit status."""
    import argparse

    parser = argparse.ArgumentParser(prog="lambdascope check")
    configure_parser(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on usage errors, 0 for --help
        return exc.code if isinstance(exc.code, int) else 2
    return run(args)
