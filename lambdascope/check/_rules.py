"""The rules of ``lambdascope check`` and the findings it reports.

:data:`RULES` maps each code to its :class:`Rule` (severity, name, one-line summary); a
:class:`Finding` is one report at ``path:line:col``. "Handler code" in the summaries is code
reachable from a handler: what runs on every invocation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "SEVERITIES", "Finding", "Rule", "order"]


@dataclass(frozen=True)
class Rule:
    """A rule: its code, severity (``error``, ``warning`` or ``info``), name and summary."""

    code: str
    severity: str
    name: str
    summary: str


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "LS000",
            "warning",
            "file-not-analysed",
            "a file could not be read, parsed or analysed within its bounds, so it was not "
            "(fully) analysed; the run goes on",
        ),
        Rule(
            "LS101",
            "error",
            "module-state-mutated",
            "handler code mutates a module-level "
            "object (append, update, ...): the next warm invocation sees the data",
        ),
        Rule(
            "LS102",
            "error",
            "module-state-written",
            "handler code assigns, augments or "
            "deletes an item or attribute of a module-level object",
        ),
        Rule(
            "LS103",
            "error",
            "global-rebound",
            "handler code rebinds a module-level name "
            "through `global` with request data or an accumulating value",
        ),
        Rule(
            "LS104",
            "error",
            "aws-client-per-invocation",
            "an AWS client, resource or session is created on every invocation",
        ),
        Rule(
            "LS105",
            "error",
            "connection-per-invocation",
            "a database, search or HTTP client/connection is created on every invocation",
        ),
        Rule(
            "LS106",
            "error",
            "mutable-default-mutated",
            "a mutable default argument of a "
            "handler-reachable function is mutated: the default is shared by all invocations",
        ),
        Rule(
            "LS107",
            "warning",
            "unbounded-cache",
            "a module-level cache keyed by event data grows without bound across warm invocations",
        ),
        Rule(
            "LS108",
            "info",
            "lazy-init-by-hand",
            "a module-level name is initialised on "
            "first use by hand (`global x; if x is None: x = ...`): @init_resource does it",
        ),
        Rule(
            "LS109",
            "info",
            "memo-cache",
            "a module-level dict is filled by key as a memo "
            "cache: give it a lifetime with @init_resource(ttl=...) or declare it with allow=",
        ),
        Rule(
            "LS110",
            "warning",
            "client-per-key",
            "a client or connection is built on every invocation from a key taken from the "
            "event (a region, an endpoint, a host): cache one per key",
        ),
        Rule(
            "LS111",
            "warning",
            "hard-coded-temp-path",
            "handler code writes a file under a hard-coded temp path: it outlives the "
            "invocation and bypasses a private TMPDIR (use request.tmpdir or init_tmpdir())",
        ),
        Rule(
            "LS112",
            "error",
            "environment-written",
            "handler code puts request data into the process environment (os.environ): the "
            "next invocation, and every library reading the variable, sees it",
        ),
    )
}
"""Every rule by code ("handler code": code reachable from a handler)."""
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One finding at ``path:line:col`` (1-based); ``str()`` gives the text report line."""

    path: str
    line: int
    col: int
    code: str
    message: str

    @property
    def severity(self) -> str:
        """``error``, ``warning`` or ``info`` (the rule's)."""
        return RULES[self.code].severity

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} [{self.severity}] {self.message}"


def order(finding: Finding) -> tuple[str, int, int, str]:
    """Findings sort by file, line, column and code."""
    return finding.path, finding.line, finding.col, finding.code
