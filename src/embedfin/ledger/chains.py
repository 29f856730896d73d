"""Linked chains: events flagged ``linked`` succeed or fail together with the event after them.

A chain runs from an event with the ``linked`` flag to the first event without it. If any event
of a chain fails, everything the chain did is rolled back: the failing event keeps its own result
and every other event of the chain reports ``linked_event_failed``. A chain still open at the end
of a batch is not executed: its last event reports ``linked_event_chain_open``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

E = TypeVar("E")
R = TypeVar("R")


def run_linked(
    events: Sequence[E],
    is_linked: Callable[[E], bool],
    execute: Callable[[int, E], R],
    savepoint: Callable[[], object],
    rollback: Callable[[object], None],
    release: Callable[[], None],
    ok: R,
    failed: R,
    chain_open: R,
) -> list[R]:
    """Run ``execute`` over ``events`` honouring linked chains; one result per event."""
    count = len(events)
    open_from = count
    if count and is_linked(events[-1]):
        open_from = count - 1
        while open_from > 0 and is_linked(events[open_from - 1]):
            open_from -= 1
    results: list[R] = []
    append = results.append
    i = 0
    while i < open_from:
        event = events[i]
        if not is_linked(event):
            append(execute(i, event))
            i += 1
            continue
        start = i
        mark = savepoint()
        failure: R | None = None
        while True:
            event = events[i]
            result = execute(i, event)
            append(result)
            last = not is_linked(event)
            i += 1
            if result != ok:
                failure = result
                break
            if last:
                break
        if failure is None:
            release()
            continue
        rollback(mark)
        release()
        for j in range(start, i - 1):
            results[j] = failed
        # skip the rest of the failed chain
        while not last:
            event = events[i]
            last = not is_linked(event)
            append(failed)
            i += 1
    if open_from < count:
        results.extend([failed] * (count - open_from - 1))
        results.append(chain_open)
    return results
