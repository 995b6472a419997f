"""Output formats of ``lambdascope check``: text, JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
import os

from ._rules import RULES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._rules import Finding

__all__ = ["render"]

_DOCS = "https://github.com/lambdascope/lambdascope/blob/main/docs/check.md"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    if os.path.isabs(path):
        try:
            path = os.path.relpath(path)
        except ValueError:  # pragma: no cover - another drive on Windows
            return "file:///" + path.replace(os.sep, "/").lstrip("/")
    return path.replace(os.sep, "/")


def sarif(findings: Sequence[Finding], version: str) -> dict[str, object]:
    """A SARIF 2.1.0 log with one run (GitHub code scanning reads it)."""
    rules = list(RULES.values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lambdascope check",
                        "version": version,
                        "informationUri": _DOCS,
                        "rules": [
                            {
                                "id": rule.code,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "helpUri": f"{_DOCS}#{rule.code.lower()}",
                                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [
                    {
                        "ruleId": f.code,
                        "ruleIndex": index[f.code],
                        "level": _SARIF_LEVEL[f.severity],
                        "message": {"text": f.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": _uri(f.path)},
                                    "region": {"startLine": f.line, "startColumn": f.col},
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }


def render(findings: Sequence[Finding], fmt: str, version: str) -> str:
    """The report of *findings* in *fmt* (``text``, ``json`` or ``sarif``), newline-ended."""
    if fmt == "json":
        rows = [
            {
                "path": f.path,
                "line": f.line,
                "col": f.col,
                "code": f.code,
                "severity": f.severity,
                "message": f.message,
            }
            for f in findings
        ]
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif(findings, version), indent=2) + "\n"
    return "".join(f"{f}\n" for f in findings)
