"""Module-level state in a helper module of the package."""

from __future__ import annotations

SEEN: list[str] = []


def remember(key: str) -> None:
    SEEN.append(key)
