"""A handler that writes state of another module through a helper."""

from __future__ import annotations

from lambdascope import handler

from .pkg import store


@handler
def unguarded_elsewhere(event, context):
    store.remember(event)
    return len(store.SEEN)
