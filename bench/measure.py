"""Timing and query counting, and the summary table."""

import statistics
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Sample:
    """Wall-clock seconds of the timed runs and the queries of the counted run."""

    seconds: list[float]
    queries: int | None = None
    interrupted: bool = False  # the counted run hit the budget: seconds is a lower bound
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (seconds, sql) of the counted run
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> str:
        if self.interrupted or len(self.seconds) < 2:
            return ""
        return f"min {ms(min(self.seconds))}, max {ms(max(self.seconds))}"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    return f"{seconds * 1000:,.1f} ms"


class Deadline:
    """Interrupt the running statement once `seconds` have passed (sqlite3's interrupt(),
    PostgreSQL's cancel request), so that a query that grows with the square of the rows
    reports "over budget" instead of running for an hour."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def _fire(self, raw) -> None:
        self.expired = True
        if hasattr(raw, "interrupt"):  # sqlite3
            raw.interrupt()
        elif hasattr(raw, "cancel_safe"):  # psycopg 3.2+
            raw.cancel_safe()
        elif hasattr(raw, "cancel"):
            raw.cancel()

    def __enter__(self) -> "Deadline":
        if self.seconds:
            connection.ensure_connection()
            self._timer = threading.Timer(self.seconds, self._fire, args=(connection.connection,))
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()


def measure(run: Callable[[int], Any], *, repeat: int, budget: float | None = None) -> Sample:
    """Run once under CaptureQueriesContext (it counts the queries and warms caches), then
    `repeat` times without it, timed: capturing formats every statement's SQL, which would
    inflate the timings (on SQLite it even runs an extra QUOTE() query per statement).

    `run` gets the run's index (0 is the counted run), so writes can vary their input.
    A run that passes `budget` seconds is interrupted; the timed runs are then skipped.
    """
    result = None
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        try:
            with Deadline(budget) as deadline:
                result = run(0)
        except DatabaseError:
            if not deadline.expired:
                raise
        counted_seconds = time.perf_counter() - start
    # Read the capture now: a later request (request_started) clears connection.queries.
    captured = ctx.captured_queries
    slowest = sorted(((float(q["time"]), q["sql"]) for q in captured), reverse=True)[:3]
    if deadline.expired:
        return Sample(seconds=[counted_seconds], queries=len(captured), slowest=slowest, interrupted=True)
    seconds = []
    for index in range(1, repeat + 1):
        start = time.perf_counter()
        try:
            with Deadline(budget) as deadline:
                result = run(index)
        except DatabaseError:
            if not deadline.expired:
                raise
        seconds.append(time.perf_counter() - start)
        if deadline.expired:
            return Sample(seconds=seconds, queries=len(captured), slowest=slowest, interrupted=True)
    return Sample(seconds=seconds, queries=len(captured), slowest=slowest, result=result)


@contextmanager
def counting_queries():
    """Count statements cheaply (no SQL formatting), for the bulk build."""
    counter = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


@dataclass
class Row:
    section: str
    name: str
    seconds: float | None
    queries: int | None = None
    note: str = ""
    lower_bound: bool = False

    @property
    def time(self) -> str:
        return (">" if self.lower_bound else "") + ms(self.seconds)


@dataclass
class Target:
    """One of the issue's targets: the figure measured, the bar, and whether it was met."""

    name: str
    figure: str
    bar: str
    met: bool | None  # None: not measured (interrupted or skipped)
    info: bool = False  # a figure shown beside the targets, with no bar of its own

    @property
    def verdict(self) -> str:
        if self.info:
            return "(information)"
        return "-" if self.met is None else "met" if self.met else "MISSED"


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.targets: list[Target] = []

    def target(self, name: str, figure: str, bar: str, met: bool | None, info: bool = False) -> None:
        target = Target(name, figure, bar, met, info)
        self.targets.append(target)
        print(f"  target: {name}: {figure} (bar: {bar}) {target.verdict}", flush=True)

    def time_target(self, name: str, sample: "Sample | None", limit: float) -> None:
        """A median against a time limit."""
        if sample is None or sample.interrupted:
            self.target(name, "not measured" if sample is None else f">{ms(sample.seconds[-1])}",
                        f"< {ms(limit)}", None if sample is None else False)
        else:
            self.target(name, ms(sample.median), f"< {ms(limit)}", sample.median < limit)

    def ratio_target(self, name: str, small: "Sample | float | None", large: "Sample | float | None",
                     *, most: float | None = None, near: float | None = None, info: str = "") -> None:
        """large / small: at most `most`, or near `near` (within a factor of 2 around it)."""
        def value(x):
            if x is None or (isinstance(x, Sample) and x.interrupted):
                return None
            return x.median if isinstance(x, Sample) else x

        a, b = value(small), value(large)
        bar = info or (f"<= {most}" if most is not None else f"near {near} (from {near / 2:g} to {near * 2:g})")
        if a is None or b is None or not a:
            self.target(name, "not measured", bar, None, info=bool(info))
            return
        ratio = b / a
        met = None if info else ratio <= most if most is not None else near / 2 <= ratio <= near * 2
        self.target(name, f"{ratio:.2f} ({ms(b)} / {ms(a)})", bar, met, info=bool(info))

    def print_targets(self) -> None:
        if not self.targets:
            return
        name_w = max(len(t.name) for t in self.targets)
        fig_w = max(len(t.figure) for t in self.targets)
        bar_w = max(len(t.bar) for t in self.targets)
        header = f"{'target':<{name_w}}  {'figure':<{fig_w}}  {'bar':<{bar_w}}  verdict"
        print(header)
        print("-" * len(header))
        for t in self.targets:
            print(f"{t.name:<{name_w}}  {t.figure:<{fig_w}}  {t.bar:<{bar_w}}  {t.verdict}")

    def add(self, section: str, name: str, seconds: float | None, queries: int | None = None,
            note: str = "", lower_bound: bool = False) -> None:
        row = Row(section, name, seconds, queries, note, lower_bound)
        self.rows.append(row)
        q = f"{queries:>6} queries" if queries is not None else ""
        print(f"  {name:<52} {row.time:>11} {q}  {note}".rstrip(), flush=True)

    def add_sample(self, section: str, name: str, sample: Sample, note: str = "",
                   show_slowest: bool = False) -> None:
        if sample.interrupted:
            first = (f"INTERRUPTED at the {ms(sample.seconds[-1])} budget "
                     f"(queries: {sample.queries} before the interruption)")
            self.add(section, name, sample.seconds[-1], None, "; ".join(x for x in (first, note) if x),
                     lower_bound=True)
        else:
            full_note = "; ".join(x for x in (f"median of {len(sample.seconds)}" if len(sample.seconds) > 1 else "",
                                              sample.spread, note) if x)
            self.add(section, name, sample.median, sample.queries, full_note)
        if show_slowest:
            print_slowest(sample)

    def print_table(self) -> None:
        name_w = max(len(r.name) for r in self.rows)
        sec_w = max(len(r.section) for r in self.rows)
        header = f"{'section':<{sec_w}}  {'measurement':<{name_w}}  {'time':>11}  {'queries':>7}  note"
        print(header)
        print("-" * len(header))
        for r in self.rows:
            q = str(r.queries) if r.queries is not None else "-"
            print(f"{r.section:<{sec_w}}  {r.name:<{name_w}}  {r.time:>11}  {q:>7}  {r.note}".rstrip())


def print_slowest(sample: Sample, limit: int = 3, width: int = 220) -> None:
    for seconds, sql in sample.slowest[:limit]:
        if seconds < 0.01:
            break
        text = " ".join(sql.split())
        if len(text) > width:
            text = text[:width] + " …"
        print(f"      slow query {ms(seconds):>9}: {text}", flush=True)
