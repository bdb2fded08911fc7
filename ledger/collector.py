"""Python's cycle collector, paused while a large batch is read, checked or written, and while `ipb` starts.

A big file or batch makes many objects that live until it is done (parsed transactions, drafts, entries, rows)
and no reference cycles: the collector would walk every live object of the process again and again as they pile
up, to free nothing (a third of reading 250,000 postings; ~15% of bulk posting). It runs as usual afterwards.

Start-up is the same: importing a command's modules makes a few hundred thousand objects (modules, classes, the
statements built at import) that live as long as the process. `ipb` pauses the collector until its command is
loaded, then freezes what exists (`gc.freeze`: the collector never walks those again, nor at exit) and turns it
back on: `ipb budget show` went from 1.4-1.6x the time of `python -c "import sqlalchemy, typer"` to 1.0-1.2x.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """Within this block (if `pause`) the cycle collector does not run; as it was, afterwards."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_starting = False


def starting() -> None:
    """The `ipb` process begins (ledger/cli/app.py `main`): the collector is off until `started`."""
    global _starting
    if gc.isenabled():
        _starting = True
        gc.disable()


def started() -> None:
    """The command's modules are loaded: if `starting` paused the collector, freeze what start-up made and turn
    it back on (a command loaded in another program, a test's, leaves its collector alone)."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.enable()
