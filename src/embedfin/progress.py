"""Progress on stderr: a Rich bar when a person watches, plain lines otherwise, off on request."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

stderr = Console(stderr=True)


#: ``advance(n)``: n more units done
Advance = Callable[[int], None]
#: ``progress(label, total)``: a context manager yielding ``advance``; what long runs (the
#: benchmarks, the simulator) take, so the caller decides whether anyone watches
Progress = Callable[[str, int], AbstractContextManager[Advance]]


def no_progress(_label: str, _total: int) -> AbstractContextManager[Advance]:
    """The default ``Progress``: reports nothing."""
    return nullcontext(lambda _n: None)


def progress_factory(enabled: bool = True) -> Progress:
    """A ``track(label, total)`` context manager factory yielding ``advance(n)``."""

    @contextmanager
    def track(label: str, total: int) -> Iterator[Callable[[int], None]]:
        if not enabled:
            yield lambda _n: None
            return
        if sys.stderr.isatty():
            with Bar(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=stderr,
                transient=False,
            ) as bar:
                task = bar.add_task(label, total=total)
                yield lambda n: bar.advance(task, n)
            return
        done = 0
        step = max(total // 10, 1)
        next_mark = step

        def advance(n: int) -> None:
            nonlocal done, next_mark
            done += n
            if done >= next_mark or done == total:
                print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)
                next_mark += step

        yield advance

    return track
