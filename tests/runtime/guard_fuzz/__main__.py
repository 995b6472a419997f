"""The long run: ``python3 tasks.py fuzz`` (or ``python -m guard_fuzz`` from tests/runtime).

Prints the programs tried, the invocations, the failures by class and by fault (the write
analysis, or the runtime walk and restore), the fallback reasons by construct, and writes the
minimised source of each distinct failure to a folder.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

from .campaign import Report, campaign
from .known import known_hole


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tasks.py fuzz", description=__doc__)
    parser.add_argument(
        "--programs",
        type=int,
        default=None,
        help="how many programs to try (default: until --seconds run out)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="time budget (default: 300 when --programs is not given)",
    )
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="number of the first program (program N is always the same)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("fuzz-findings"),
        help="folder for the minimised failing programs (default: fuzz-findings)",
    )
    parser.add_argument(
        "--skip-known",
        action="store_true",
        help="leave out the constructs of known, open holes (guard_fuzz/known.py)",
    )
    parser.add_argument("--no-minimise", action="store_true", help="report programs as generated")
    args = parser.parse_args(argv)
    budget = args.seconds
    if args.programs is None and budget is None:
        budget = 300.0
    stop = None if args.programs is None else args.first + args.programs
    numbers = itertools.count(args.first) if stop is None else range(args.first, stop)
    # the /tmp watch of @handler sees this run's temp dir only
    private = tempfile.mkdtemp(prefix="guard-fuzz-tmp-")
    tempfile.tempdir = private
    os.environ["TMPDIR"] = private
    print(
        f"guard fuzz on Python {sys.version.split()[0]}: programs from number {args.first}, "
        f"{f'budget {budget:.0f} s' if budget else ''}{'' if stop is None else f'up to {stop}'}",
        flush=True,
    )

    def progress(report: Report) -> None:
        print(
            f"  ... {report.programs} programs, {len(report.findings)} distinct failures, "
            f"{report.seconds:.0f} s",
            flush=True,
        )

    report = campaign(
        numbers,
        budget=budget,
        exclude=known_hole if args.skip_known else None,
        minimise=not args.no_minimise,
        progress=progress,
    )
    print(report.render())
    written = report.write(args.out)
    if written:
        print(f"minimised programs of the {len(written)} distinct failures: {args.out}/")
    return 1 if report.findings or report.invalid else 0


if __name__ == "__main__":
    sys.exit(main())
