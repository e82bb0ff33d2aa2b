"""Progress of the long loops (feature extraction, bootstrap resamples): a bar or log lines.

In a terminal or a Jupyter notebook a tqdm bar is shown. When stderr is not a terminal (a log
file, a pipe, a batch system), a bar would write nothing readable, so plain lines are written
instead, at every tenth of the work or every 30 seconds, whichever comes first::

    12:04:31 features: 120/400 cases done, 1 failed, elapsed 2m10s, ETA 4m30s

What is shown is chosen by each function's ``progress`` argument:

- ``None`` (default): the process-wide setting -- :func:`progress_settings` (the CLI's
  ``--progress``) or the environment variable ``RADIOMICS_ALN_PROGRESS`` -- else ``"auto"``;
- ``"auto"``: a bar in a terminal or notebook, lines otherwise;
- ``True`` or ``"bar"``: a tqdm bar; ``"lines"``: lines; ``False`` or ``"off"``: nothing.

The interval between lines is 30 s unless set by :func:`progress_settings` (the CLI's
``--progress-seconds``) or ``RADIOMICS_ALN_PROGRESS_SECONDS``. Progress only reports: it never
changes what is computed or in which order.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "GroupProgress",
    "MODES",
    "DEFAULT_SECONDS",
    "ProgressLines",
    "format_duration",
    "progress_mode",
    "progress_reporter",
    "progress_settings",
]

#: The values of a ``progress`` argument given as text (and of ``--progress``).
MODES = ("auto", "bar", "lines", "off")
#: Seconds between two progress lines at most (a line is also written at every tenth).
DEFAULT_SECONDS = 30.0
#: Fraction of the work between two progress lines at most.
STEP_FRACTION = 0.1

_ENV_MODE = "RADIOMICS_ALN_PROGRESS"
_ENV_SECONDS = "RADIOMICS_ALN_PROGRESS_SECONDS"
# set by progress_settings (the CLI); None: the environment variable or the default
_SETTINGS: dict[str, Any] = {"mode": None, "seconds": None, "sink": None}


@contextlib.contextmanager
def progress_settings(
    *,
    mode: str | None = None,
    seconds: float | None = None,
    sink: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Within the block, ``progress=None`` means ``mode``, lines come every ``seconds`` at most
    and are passed to ``sink(text)`` (default: written to stderr with the time of day)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"progress seconds must be a positive number, got {seconds!r}")
    saved = dict(_SETTINGS)
    _SETTINGS.update(mode=mode, seconds=seconds, sink=sink)
    try:
        yield
    finally:
        _SETTINGS.clear()
        _SETTINGS.update(saved)


def _interactive() -> bool:
    """stderr is a terminal, or the code runs in a Jupyter kernel."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        tty = bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed stream
        tty = False
    return tty or "ipykernel" in sys.modules


def progress_mode(progress: bool | str | None) -> str:
    """``"bar"``, ``"lines"`` or ``"off"`` for a ``progress`` argument (see the module doc)."""
    if progress is None:
        progress = _SETTINGS["mode"] or os.environ.get(_ENV_MODE, "").strip().lower() or "auto"
        if progress not in MODES:  # a misspelt environment variable must not stop the work
            progress = "auto"
    if progress is True:
        return "bar"
    if progress is False:
        return "off"
    if progress not in MODES:
        from radiomics_aln.exceptions import InputError

        raise InputError(
            f"progress must be True, False, None or one of {list(MODES)}, got {progress!r}"
        )
    if progress == "auto":
        return "bar" if _interactive() else "lines"
    return str(progress)


def _seconds() -> float:
    if _SETTINGS["seconds"] is not None:
        return float(_SETTINGS["seconds"])
    try:
        value = float(os.environ.get(_ENV_SECONDS, ""))
    except ValueError:
        return DEFAULT_SECONDS
    return value if math.isfinite(value) and value > 0 else DEFAULT_SECONDS


def format_duration(seconds: float) -> str:
    """``"45s"``, ``"2m10s"`` or ``"1h02m"``.

    Examples
    --------
    >>> format_duration(4.4), format_duration(130), format_duration(3725)
    ('4s', '2m10s', '1h02m')
    """
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _write_line(text: str) -> None:
    stream = sys.stderr
    stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
    stream.flush()


class ProgressLines:
    """Plain progress lines: a first line, then at every tenth or ``seconds``, then a last one.

    Parameters
    ----------
    total : int
        Units of work (cases, resamples).
    what : str
        What is being done (``"features"``), the start of every line.
    unit : str
        The unit's name in the plural (``"cases"``).
    seconds : float
        Longest interval between two lines while the work goes on.
    sink : callable
        ``sink(text)`` writes one line.
    clock : callable
        Seconds, monotonic (a parameter for tests).
    note : str
        Ends the first line.
    work : float, optional
        Total amount of work, when units differ in size (a case's ROIs to compute): the tenths
        and the ETA then follow the work done (``update(work=...)``), not the units counted.
    """

    def __init__(
        self,
        total: int,
        what: str,
        unit: str,
        *,
        seconds: float = DEFAULT_SECONDS,
        sink: Callable[[str], None] = _write_line,
        clock: Callable[[], float] = time.monotonic,
        note: str = "",
        work: float | None = None,
    ) -> None:
        self.total, self.what, self.unit = int(total), what, unit
        self.seconds, self.sink, self.clock = seconds, sink, clock
        self.done = self.failed = 0
        self.work_total, self.work_done = work, 0.0
        self.start = self.last = clock()
        self.next_mark = 1
        self.closed = False
        self.sink(f"{what}: {self.total} {unit} to do{note}")

    def update(self, n: int = 1, *, failed: int = 0, work: float = 0.0) -> None:
        """``n`` more units finished (0: only ``work`` was done), ``failed`` of them failed."""
        self.done += n
        self.failed += failed
        self.work_done += work
        if self.done >= self.total:
            return  # the closing line says it
        now = self.clock()
        if self.work_total:
            done, total = self.work_done, self.work_total
        else:
            done, total = self.done, max(self.total, 1)
        mark = math.floor(done / total / STEP_FRACTION + 1e-9)
        if mark >= self.next_mark or now - self.last >= self.seconds:
            self.next_mark = mark + 1
            self.last = now
            elapsed = now - self.start
            eta = elapsed / done * (total - done) if done > 0 else math.nan
            eta_text = format_duration(eta) if math.isfinite(eta) else "unknown"
            share = f" ({done / total:.0%} of the work)" if self.work_total else ""
            self.sink(
                f"{self.what}: {self.done}/{self.total} {self.unit} done{share}, "
                f"{self.failed} failed, elapsed {format_duration(elapsed)}, ETA {eta_text}"
            )

    def close(self) -> None:
        """The last line: done, or stopped part-way (an error or an interruption)."""
        if self.closed:
            return
        self.closed = True
        elapsed = format_duration(self.clock() - self.start)
        state = "done" if self.done >= self.total else "done when stopped"
        self.sink(
            f"{self.what}: {self.done}/{self.total} {self.unit} {state}, {self.failed} failed, "
            f"in {elapsed}"
        )


class _Bar:
    """A tqdm bar with the same update/close as :class:`ProgressLines` (failures as postfix)."""

    def __init__(self, total: int, what: str, unit: str) -> None:
        from tqdm.auto import tqdm

        self.failed = 0
        self.bar = tqdm(total=total, desc=what, unit=unit.rstrip("s") or unit)

    def update(self, n: int = 1, *, failed: int = 0, work: float = 0.0) -> None:
        if failed:
            self.failed += failed
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


class _Silent:
    def update(self, n: int = 1, *, failed: int = 0, work: float = 0.0) -> None:
        pass

    def close(self) -> None:
        pass


def progress_reporter(
    total: int,
    what: str,
    unit: str,
    *,
    progress: bool | str | None = None,
    note: str = "",
    work: float | None = None,
) -> Any:
    """An object with ``update(n=1, *, failed=0, work=0)`` and ``close()`` for ``total`` units:
    a tqdm bar, :class:`ProgressLines` or nothing, as :func:`progress_mode` decides.
    ``note`` ends the first line and ``work`` weighs the ETA (lines only)."""
    mode = progress_mode(progress)
    if mode == "off" or total <= 0:
        return _Silent()
    if mode == "bar":
        return _Bar(total, what, unit)
    sink = _SETTINGS["sink"] or _write_line
    return ProgressLines(total, what, unit, seconds=_seconds(), sink=sink, note=note, work=work)


class GroupProgress:
    """Progress over tasks that form groups (the images of a case): a group counts as done,
    and as failed if any of its tasks failed, when its last task finishes.

    Parameters
    ----------
    group_of : mapping
        Task -> its group.
    weights : mapping
        Task -> its amount of work (e.g. ROIs to compute): the tenths and the ETA follow the
        work done, as tasks of different sizes finish in any order.
    what, unit : str
        As :class:`ProgressLines` (``unit`` names the groups).
    all_groups : set, optional
        Every group, also those with nothing to do (counted "from the cache" in the first line).
    parts : str
        The tasks' name in the first line (``"images"``).
    n_jobs, progress
        Workers (for the first line) and :func:`progress_mode`'s argument.
    """

    def __init__(
        self,
        group_of: Mapping[Any, str],
        weights: Mapping[Any, float],
        what: str,
        unit: str,
        *,
        all_groups: set[str] | None = None,
        parts: str = "tasks",
        n_jobs: int | None = None,
        progress: Any = None,
    ) -> None:
        from joblib import effective_n_jobs

        self.group_of, self.weights = dict(group_of), dict(weights)
        self.left: dict[str, int] = {}
        for g in self.group_of.values():
            self.left[g] = self.left.get(g, 0) + 1
        self.failed: set[str] = set()
        workers = effective_n_jobs(n_jobs)
        n_cached = len(set(all_groups or ()) - set(self.left))
        note = f" ({len(self.group_of)} {parts}, {workers} worker{'s' if workers > 1 else ''}"
        note += f"; {n_cached} other {unit} from the cache)" if n_cached > 0 else ")"
        work = float(sum(self.weights.values()))
        self.reporter = progress_reporter(
            len(self.left), what, unit, progress=progress, note=note, work=work
        )

    def finished(self, task: Any, *, failed: bool = False) -> None:
        group = self.group_of[task]
        if failed:
            self.failed.add(group)
        self.left[group] -= 1
        done = self.left[group] == 0
        self.reporter.update(
            int(done), failed=int(done and group in self.failed), work=self.weights[task]
        )

    def close(self) -> None:
        self.reporter.close()
