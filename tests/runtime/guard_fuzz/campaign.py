"""Many programs in a row: the failures (minimised, classified) and the tallies."""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .generator import KINDS_BY_NAME, Context, Generator, Names, baseline_op, rebuild, simpler
from .reduce import reduce_case, reduce_fragments
from .runner import (
    CRASH,
    Failure,
    Runner,
    crash_is_guards,
    fallback_reasons,
    fault,
    same_failure,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from .program import Case, Program
    from .runner import Cost, Outcome


@dataclass
class Finding:
    """One distinct failure: its kind, whose fault, the construct(s), a minimal program."""

    kind: str
    fault: str  # "analysis" | "runtime"
    cause: str  # the construct, with the parts that do not matter as `*`
    failure: Failure
    case: Case
    number: int | None
    count: int = 1
    gave_up: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.kind} ({self.fault}): {self.cause}"

    def report(self) -> str:
        lines = [
            f"# {self.title}",
            f"# program number {self.number}, seen {self.count} time(s)",
            f"# {self.failure.summary()}",
        ]
        if self.gave_up:
            lines.append(f"# the write analysis gave up: {self.gave_up}")
        return "\n".join(lines) + "\n\n" + self.case.source()


@dataclass
class Report:
    """What a campaign tried and found."""

    programs: int = 0
    invocations: int = 0
    seconds: float = 0.0
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, fault)
    invalid: list[tuple[int | None, str]] = field(default_factory=list)
    fallbacks: Counter[tuple[str, str]] = field(default_factory=Counter)  # (reason, construct)
    programs_giving_up: int = 0
    constructs_seen: Counter[str] = field(default_factory=Counter)
    compared: list[int] = field(
        default_factory=list
    )  # per read-only program the analysis vouched for

    def render(self) -> str:
        out = [
            f"programs tried: {self.programs}, invocations: {self.invocations}, "
            f"in {self.seconds:.0f} s",
            f"distinct constructs tried: {len(self.constructs_seen)}",
            f"programs the write analysis gave up on (watching everything): "
            f"{self.programs_giving_up} ({_percent(self.programs_giving_up, self.programs)})",
        ]
        if self.invalid:
            out.append(f"INVALID programs (a generator bug): {len(self.invalid)}")
            out += [f"  program {n}: {why}" for n, why in self.invalid[:5]]
        total = sum(self.failures.values())
        out.append(f"failing programs: {total} ({_percent(total, self.programs)})")
        for (kind, blame), count in sorted(self.failures.items()):
            out.append(f"  {kind:<15} {blame:<9} {count}")
        out.append(f"distinct failures: {len(self.findings)}")
        by_cause = sorted(self.findings.values(), key=lambda f: (f.kind, f.fault, f.cause))
        for finding in by_cause:
            out.append(f"  {finding.count:>5}x  {finding.title}")
        out += self._cost_lines()
        out.append("fallback reasons (reason: construct x programs):")
        reasons: dict[str, Counter[str]] = {}
        for (reason, construct), count in self.fallbacks.items():
            reasons.setdefault(reason, Counter())[construct] += count
        for reason, constructs in sorted(reasons.items()):
            out.append(f"  {reason}")
            out += [f"      {c}: {n}" for c, n in constructs.most_common(8)]
        return "\n".join(out)

    def _cost_lines(self) -> list[str]:
        if not self.compared:
            return []
        ordered = sorted(self.compared)
        middle, high = ordered[len(ordered) // 2], ordered[(len(ordered) * 9) // 10]
        return [
            f"what the guard compares per invocation, programs whose handler only reads "
            f"({len(ordered)}): median {middle}, 90th percentile {high}, most {ordered[-1]} "
            f"items (findings of class '{COST}': a read-only table it compares)"
        ]

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for index, finding in enumerate(
            sorted(self.findings.values(), key=lambda f: (f.kind, f.fault, f.cause)), 1
        ):
            title = f"{finding.kind} {finding.fault} {finding.cause}".lower()
            slug = re.sub(r"[^a-z0-9]+", "-", title).strip("-")[:120]
            path = folder / f"{index:03d}-{slug}.py"
            path.write_text(finding.report(), encoding="utf-8")
            written.append(path)
        return written


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _normal_reason(reason: str) -> str:
    return re.sub(r"\d+", "N", reason)


def campaign(
    numbers: Iterable[int],
    *,
    budget: float | None = None,
    exclude: Callable[[str], bool] | None = None,
    minimise: bool = True,
    explain_fallbacks: bool = True,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Run the programs *numbers* (until *budget* seconds are spent, if given)."""
    generator = Generator(exclude=exclude)
    report = Report()
    started = time.monotonic()
    with Runner() as runner:
        for number in numbers:
            if budget is not None and time.monotonic() - started > budget:
                break
            program = generator.program(number)  # of fragments valid on this version
            report.programs += 1
            report.constructs_seen.update(program.constructs)
            report.constructs_seen[f"layout/{program.layout}"] += 1
            outcome = runner.run(program.case())
            report.invocations += outcome.invocations
            if outcome.invalid is not None:
                report.invalid.append((number, outcome.invalid))
                continue
            if outcome.gave_up:
                report.programs_giving_up += 1
                if explain_fallbacks:
                    _explain_fallback(runner, program, report)
            if outcome.failure is not None:
                _record(runner, program, outcome, report, minimise)
            elif outcome.cost is not None and not outcome.gave_up:
                report.compared.append(outcome.cost.items)
                if outcome.cost.table_nodes:
                    _record_cost(runner, program, outcome.cost, report)
            if progress is not None and report.programs % 500 == 0:
                report.seconds = time.monotonic() - started
                progress(report)
    report.seconds = time.monotonic() - started
    return report


def _explain_fallback(runner: Runner, program: Program, report: Report) -> None:
    """Which of the program's fragments makes the analysis give up, and why."""
    for fragment in program.fragments:
        single = program.with_fragments([fragment])
        reasons = analyse_only(runner, single.case())
        for reason in set(reasons.values()):
            report.fallbacks[(_normal_reason(reason), fragment.construct)] += 1


def analyse_only(runner: Runner, case: Case) -> dict[str, str]:
    try:
        with runner.loaded(case) as loaded:
            return fallback_reasons(loaded.modules())
    except Exception as exc:
        return {"?": f"the program does not import ({type(exc).__name__})"}


def _record(
    runner: Runner, program: Program, outcome: Outcome, report: Report, minimise: bool
) -> None:
    assert outcome.failure is not None
    kind = outcome.failure.kind
    check = same_failure(kind, outcome.failure.detail)
    if kind == CRASH and not crash_is_guards(runner, program.case()):
        report.invalid.append(
            (program.number, f"crashes without the guard too: {outcome.failure.detail}")
        )
        return
    smaller = reduce_fragments(runner, program, check) if minimise else program
    where = ""
    if minimise:
        smaller, where = plainer_layout(runner, smaller, check)
    if minimise and len(smaller.fragments) == 2:
        cause, smaller = generalise_pair(runner, smaller, check)
    else:
        cause, smaller = (
            generalise(runner, smaller, check)
            if minimise
            else (" + ".join(program.constructs), program)
        )
    cause += where
    key = (kind, cause)
    known = report.findings.get(key)
    if known is not None:
        known.count += 1
        report.failures[(kind, known.fault)] += 1
        return
    case = smaller.case()
    first = runner.run(case)
    if not check(first):  # flaky: keep the original
        case, first = program.case(), outcome
    assert first.failure is not None
    if minimise:
        reduced = reduce_case(runner, case, check, invocation=first.failure.invocation)
        again = runner.run(reduced)
        if check(again):
            case, first = reduced, again
    assert first.failure is not None
    blame = fault(runner, case, first)
    report.failures[(kind, blame)] += 1
    report.findings[key] = Finding(
        kind, blame, cause, first.failure, case, program.number, gave_up=first.gave_up
    )


def plainer_layout(
    runner: Runner, program: Program, check: Callable[..., bool]
) -> tuple[Program, str]:
    """The program in the plainest layout its fragments fit that still fails the same way
    (``explicit``, then ``root``), and `` @ layout/<name>`` when only its own layout fails."""
    if program.layout in PLAIN_LAYOUTS or not program.package:
        return program, ""
    for layout in PLAIN_LAYOUTS:
        ctx = Context(Names(), sys.version_info[:2], True, program.async_handler, layout=layout)
        if not all(ctx.allows(fragment.needs) for fragment in program.fragments):
            continue
        candidate = program.with_layout(layout)
        if check(runner.run(candidate.case())):
            return candidate, ""
    return program, f" @ layout/{program.layout}"


#: Layouts whose failures are the construct's own: a package with modules=, one without.
PLAIN_LAYOUTS = ("explicit", "root")


#: The cost oracle's finding class: a table the handler only reads, compared per invocation.
COST = "cost"


def _record_cost(runner: Runner, program: Program, cost: Cost, report: Report) -> None:
    """A read-only table the guard compares on every invocation: which fragment's, alone."""
    cause, case, shown = " + ".join(program.constructs), program.case(), cost
    for fragment in program.fragments:
        if not fragment.tables:
            continue
        alone = program.with_fragments([fragment])
        outcome = runner.run(alone.case())
        if outcome.cost is not None and outcome.cost.table_nodes and not outcome.failure:
            construct = fragment.construct.rpartition("/")[0]
            cause, case, shown = f"{construct}/*", alone.case(), outcome.cost
            break
    key = (COST, cause)
    if key in report.findings:
        report.findings[key].count += 1
    else:
        detail = (
            f"the guard compares {shown.table_nodes} of the {shown.table_size} containers of a "
            f"table the handler only reads, on every invocation ({shown.items} items in all)"
        )
        failure = Failure(COST, 0, detail)
        report.findings[key] = Finding(COST, "watched", cause, failure, case, program.number)
    report.failures[(COST, "watched")] += 1


#: What stands for "any write" and "any read" in the cause of a failure of two fragments.
PLAIN_PARTNERS = {True: "list/name/direct/append/handler", False: "list/name/direct/len/handler"}


def generalise_pair(
    runner: Runner, program: Program, check: Callable[..., bool]
) -> tuple[str, Program]:
    """The cause of a failure that needs two fragments: when one of them can be any write (or
    any read), ``<the other's construct>/* + (any write)``, so that one cause found with many
    partners is one finding."""
    for index, fragment in enumerate(program.fragments):
        other = program.fragments[1 - index]
        ctx = Context(
            Names(), sys.version_info[:2], program.package, program.async_handler,
            layout=program.layout,
        )  # fmt: skip
        ctx.names.used.update({"lambda_handler", "handler", "event", "context", "store", "extra"})
        for block in [*other.blocks.values(), *other.imports.values(), other.calls]:
            ctx.names.used.update(re.findall(r"\w+", "\n".join(block)))
        partner = rebuild(PLAIN_PARTNERS[fragment.writes], ctx)
        if partner is None:
            continue
        candidate = program.with_fragments([other, partner])
        if check(runner.run(candidate.case())):
            shown = "any write" if fragment.writes else "any read"
            return f"{other.construct.rpartition('/')[0]}/* + ({shown})", candidate
    return " + ".join(program.constructs), program


def generalise(runner: Runner, program: Program, check: Callable[..., bool]) -> tuple[str, Program]:
    """The cause of a one-fragment failure: its construct with the parts that do not matter
    made plain and shown as ``*`` (e.g. ``dict_subclass/*/*/*``), and that plainer program."""
    if len(program.fragments) != 1:
        return " + ".join(program.constructs), program
    parts = program.fragments[0].construct.split("/")
    plain: set[int] = set()
    current = program
    for index, value in simpler("/".join(parts)):
        if parts[index] == value:
            if value != "helper":  # already plain; a helper that stayed is the cause
                plain.add(index)
            continue
        trial = list(parts)
        trial[index] = value
        if index == 0:  # another kind: keep the operation when it has one of the same name
            old_baseline = baseline_op(parts[0], _writes(parts))
            if parts[3] == old_baseline:
                trial[3] = baseline_op(value, _writes(parts))
            elif not any(o.name == parts[3] for o in KINDS_BY_NAME[value].ops):
                continue
        ctx = Context(
            Names(),
            sys.version_info[:2],
            program.package,
            program.async_handler,
            layout=program.layout,
        )
        ctx.names.used.update({"lambda_handler", "handler", "event", "context", "store", "extra"})
        fragment = rebuild("/".join(trial), ctx)
        if fragment is None:
            continue
        candidate = program.with_fragments([fragment])
        if check(runner.run(candidate.case())):
            plain.add(index)
            if value != "helper":
                parts, current = trial, candidate
    cause = "/".join("*" if i in plain else p for i, p in enumerate(parts))
    return cause, current


def _writes(parts: list[str]) -> bool:
    kind = KINDS_BY_NAME[parts[0]]
    return next(o.write for o in kind.ops if o.name == parts[3])
