"""Timing and query counting, and the summary table."""

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Sample:
    """Wall-clock seconds of the timed runs and the queries of the counted run."""

    seconds: list[float]
    queries: int | None = None
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (seconds, sql) of the counted run
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> str:
        if len(self.seconds) < 2:
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


def measure(run: Callable[[int], Any], *, repeat: int) -> Sample:
    """Run once under CaptureQueriesContext (it counts the queries and warms caches), then
    `repeat` times without it, timed: capturing formats every statement's SQL, which would
    inflate the timings (on SQLite it even runs an extra QUOTE() query per statement).

    `run` gets the run's index (0 is the counted run), so writes can vary their input.
    """
    with CaptureQueriesContext(connection) as ctx:
        result = run(0)
    # Read the capture now: a later request (request_started) clears connection.queries.
    captured = ctx.captured_queries
    slowest = sorted(((float(q["time"]), q["sql"]) for q in captured), reverse=True)[:3]
    seconds = []
    for index in range(1, repeat + 1):
        start = time.perf_counter()
        result = run(index)
        seconds.append(time.perf_counter() - start)
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


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, section: str, name: str, seconds: float | None, queries: int | None = None,
            note: str = "") -> None:
        self.rows.append(Row(section, name, seconds, queries, note))
        q = f"{queries:>6} queries" if queries is not None else ""
        print(f"  {name:<52} {ms(seconds):>11} {q}  {note}".rstrip(), flush=True)

    def add_sample(self, section: str, name: str, sample: Sample, note: str = "",
                   show_slowest: bool = False) -> None:
        spread = sample.spread
        full_note = "; ".join(x for x in (f"median of {len(sample.seconds)}" if len(sample.seconds) > 1 else "",
                                          spread, note) if x)
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
            print(f"{r.section:<{sec_w}}  {r.name:<{name_w}}  {ms(r.seconds):>11}  {q:>7}  {r.note}".rstrip())


def print_slowest(sample: Sample, limit: int = 3, width: int = 220) -> None:
    for seconds, sql in sample.slowest[:limit]:
        if seconds < 0.01:
            break
        text = " ".join(sql.split())
        if len(text) > width:
            text = text[:width] + " …"
        print(f"      slow query {ms(seconds):>9}: {text}", flush=True)
