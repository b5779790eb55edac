"""`python -m bench.loadtest [--users 50 --run-time 2m --fresh]`: the load test, start to end.

1. the load database (licensetree_load): built by bench/loadtest/data.py if missing (or --fresh);
2. the production shape (`make prod` with that database, on port 8001), in its own process
   group; waits until /health/ answers 200;
3. locust, headless, with bench/loadtest/locustfile.py;
4. stops the production shape (SIGINT to its group, then SIGTERM, then SIGKILL);
5. `manage.py check_integrity` against the load database;
6. the table per page (requests, failures, p50/p95/p99, req/s), the 5xx and the integrity
   verdict, printed and written to var/loadtest/report.md.

Exit status 1 when any request got a 5xx, the Contention pool accepted more than it holds, or
the integrity check is not clean (2 when the run itself could not be made).
Everything it writes is under var/loadtest/ (prod.log: the web's JSON logs, locust.log, stats_*.csv).
"""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from . import BASE_DIR, DEFAULT_DB_URL, MANIFEST, OUT_DIR

PY = BASE_DIR / ".venv" / "bin" / "python"
LOCUST = BASE_DIR / ".venv" / "bin" / "locust"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# The load test's own Redis database: the suite's real Celery worker and any other `make prod`
# use db 0, and workers on one queue would take each other's tasks.
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=50, help="concurrent users, each a dealer administrator (default 50)")
    p.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    p.add_argument("--run-time", default="2m", help="how long locust runs, e.g. 90s, 2m (default 2m)")
    p.add_argument("--fresh", action="store_true", help="drop and rebuild the load database first")
    p.add_argument("--db-url", default=os.environ.get("LOADTEST_DB_URL", DEFAULT_DB_URL))
    p.add_argument("--port", type=int, default=8001, help="port of the production shape (default 8001; never 8000)")
    p.add_argument("--redis-url", default=os.environ.get("LOADTEST_REDIS_URL", DEFAULT_REDIS),
                   help=f"the Celery broker of the production shape (default {DEFAULT_REDIS})")
    p.add_argument("--restart-database-at", type=float, default=None, metavar="SECONDS",
                   help="the PostgreSQL drill (make drill): restart the machine's PostgreSQL this many seconds into "
                        "the load; then only 503 pages that say nothing was saved may appear, and only while it is "
                        "down (no 500, no request left unanswered), the app must recover without a restart, "
                        "and check_integrity must be clean")
    p.add_argument("--database-down-for", type=float, default=5, metavar="SECONDS",
                   help="with --restart-database-at: how long PostgreSQL stays stopped before it starts again "
                        "(default 5)")
    p.add_argument("--health-timeout", type=float, default=300, help="seconds to wait for /health/ (default 300)")
    args = p.parse_args(argv)
    if args.port == 8000:
        p.error("port 8000 is other people's: use another (default 8001)")
    return args


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def ensure_data(args) -> float:
    started = time.perf_counter()
    check = subprocess.run([str(PY), "-m", "bench.loadtest.data", "--check", "--db-url", args.db_url],
                           cwd=BASE_DIR, capture_output=True, text=True)
    present = check.returncode == 0
    if present and not args.fresh:
        # The manifest is read from the database: written again, it always matches it.
        say("load data present: " + check.stdout.strip())
        cmd = [str(PY), "-m", "bench.loadtest.data", "--db-url", args.db_url]
    else:
        say("building the load data (" + ("--fresh" if args.fresh else check.stdout.strip() or "missing") + ")")
        cmd = [str(PY), "-m", "bench.loadtest.data", "--fresh", "--db-url", args.db_url]
    if subprocess.run(cmd, cwd=BASE_DIR).returncode != 0:
        raise SystemExit(2)
    return time.perf_counter() - started


class Prod:
    """`make prod` on the load database, in its own process group."""

    def __init__(self, args, log_path: Path):
        self.args = args
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.pids: set[int] = set()

    def start(self) -> None:
        cmd = ["make", "prod", f"PROD_DB_URL={self.args.db_url}", f"PROD_PORT={self.args.port}",
               f"REDIS_URL={self.args.redis_url}", f"PROD_DIR={(OUT_DIR / 'prod').relative_to(BASE_DIR)}"]
        say("starting: " + " ".join(cmd) + f"  (log: {self.log_path.relative_to(BASE_DIR)})")
        self.log = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        self.proc = subprocess.Popen(cmd, cwd=BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env)

    def wait_healthy(self, timeout: float) -> float:
        started = time.perf_counter()
        url = f"http://127.0.0.1:{self.args.port}/health/"
        last = ""
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make prod exited with {self.proc.returncode} before it was healthy")
            request = urllib.request.Request(url, headers={"Accept": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        self._remember_children()
                        return time.perf_counter() - started
            except urllib.error.HTTPError as exc:
                body = exc.read().decode(errors="replace")[:300]
                if body != last:
                    say(f"  /health/ answers {exc.code}: {body}")
                    last = body
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(2)
        raise RuntimeError(f"/health/ did not answer 200 within {timeout:.0f} s")

    def _remember_children(self) -> None:
        """The processes make started (honcho puts each service in a session of its own, so a
        signal to our group reaches them only through honcho): kept to check they all end."""
        try:
            import psutil

            self.pids = {p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)}
        except Exception:  # noqa: BLE001 - only a safety net
            self.pids = set()

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return "already stopped"
        self._remember_children()
        how = "SIGINT"
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGINT)
        try:
            self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            how = "SIGTERM after SIGINT timed out"
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                how = "SIGKILL after SIGINT and SIGTERM timed out"
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait()
        # Any service honcho did not take down (only ours: the pids make started).
        leftovers = []
        try:
            import psutil

            deadline = time.time() + 10
            alive = [p for p in (self._proc(pid) for pid in self.pids) if p is not None]
            while alive and time.time() < deadline:
                time.sleep(0.5)
                alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            for p in alive:
                leftovers.append(f"{p.pid} {' '.join(p.cmdline()[:3])}")
                p.kill()
        except Exception:  # noqa: BLE001
            pass
        self.log.close()
        return how + (f"; killed leftovers: {', '.join(leftovers)}" if leftovers else "")

    @staticmethod
    def _proc(pid: int):
        import psutil

        try:
            return psutil.Process(pid)
        except psutil.Error:
            return None


class DatabaseRestart:
    """The PostgreSQL drill: `seconds` into the load, stop the machine's PostgreSQL cluster (fast
    mode: open connections are cut), keep it down `down_for` seconds, start it again. Only for a
    machine where nothing else uses that PostgreSQL meanwhile (make drill)."""

    RECOVERY = 15.0  # seconds after the start within which the app must answer again

    def __init__(self, seconds: float, down_for: float):
        self.seconds, self.down_for = seconds, down_for
        self.t0 = self.t1 = None  # wall-clock: stop issued, start finished
        self.error = None
        self.version, self.cluster = self._cluster()
        self.thread = threading.Thread(target=self._run, name="database-restart", daemon=True)
        self.thread.start()

    @staticmethod
    def _cluster() -> tuple[str, str]:
        out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            version, name, port, *_rest = line.split()
            if port == "5432":
                return version, name
        raise RuntimeError(f"no PostgreSQL cluster on port 5432 in pg_lsclusters:\n{out}")

    def _ctl(self, action: str) -> None:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "-m", "fast", self.version, self.cluster,
                        action], check=True, capture_output=True, text=True, timeout=60)

    def _run(self) -> None:
        time.sleep(self.seconds)
        try:
            self.t0 = time.time()
            say(f"PostgreSQL {self.version}/{self.cluster}: stopping (fast) for {self.down_for:g} s")
            self._ctl("stop")
            time.sleep(self.down_for)
            self._ctl("start")
            self.t1 = time.time()
            say(f"PostgreSQL started again after {self.t1 - self.t0:.1f} s")
        except Exception as exc:  # noqa: BLE001 - reported by judge(); the cluster is started again below
            self.error = exc
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.cluster, "start"],
                           capture_output=True)

    def join(self) -> None:
        self.thread.join()

    def ensure_started(self) -> None:
        """Whatever happened (Ctrl-C, an error in the middle of the outage), leave the machine's
        PostgreSQL running: start it if it is not."""
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode != 0:
            say("PostgreSQL is down: starting it again")
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.cluster, "start"],
                           capture_output=True)

    def judge(self, server_errors: list[dict], outcomes: dict) -> tuple[int, list[str]]:
        """(how many things broke the drill's rule, the report's lines). The rule: while the
        database is away, a request may fail only with the 503 page that says nothing was saved;
        outside that window, nothing fails; and the app answers again without a restart."""
        if self.error is not None or self.t0 is None or self.t1 is None:
            return 1, [f"PostgreSQL drill: the restart itself failed ({self.error or 'it never ran: load too short?'})"]
        window = (self.t0 - 1, self.t1 + self.RECOVERY)
        clean_503 = [e for e in server_errors
                     if e["status"] == 503 and e.get("says_nothing_saved") and window[0] <= e["ts"] <= window[1]]
        bad = [e for e in server_errors if e not in clean_503]
        no_response = outcomes.get("no_response", [])  # a clean failure is an answer: none may go without
        per_second = {int(k): v for k, v in outcomes.get("per_second", {}).items()}
        answered_after = sum(v.get("answered", 0) for k, v in per_second.items() if k > window[1])
        first_ok = min((k for k, v in per_second.items() if k > self.t1 and v.get("answered")), default=None)
        lines = ["", "## PostgreSQL drill", "",
                 f"PostgreSQL stopped (fast) {datetime.fromtimestamp(self.t0):%H:%M:%S}, started again "
                 f"{datetime.fromtimestamp(self.t1):%H:%M:%S} ({self.t1 - self.t0:.1f} s down).",
                 f"- 503 pages saying nothing was saved, within the outage (+{self.RECOVERY:g} s): {len(clean_503)}",
                 f"- other 5xx, or 503 outside it: {len(bad)}",
                 f"- requests without any response: {len(no_response)}",
                 f"- first request answered after the start: "
                 f"{f'{first_ok - self.t1:+.0f} s' if first_ok is not None else 'none'}; "
                 f"answered after the outage: {answered_after:,}",
                 "", "Per second around the outage (answered / 503 / other 5xx / no response):", ""]
        for k in sorted(per_second):
            if self.t0 - 3 <= k <= self.t1 + 10:
                v = per_second[k]
                lines.append(f"- {datetime.fromtimestamp(k):%H:%M:%S}: {v.get('answered', 0)} / {v.get('503', 0)} / "
                             f"{v.get('5xx', 0)} / {v.get('no response', 0)}")
        broke = len(bad) + len(no_response) + (0 if answered_after else 1)
        return broke, lines


def run_locust(args) -> int:
    prefix = OUT_DIR / "stats"
    for old in OUT_DIR.glob("stats_*.csv"):
        old.unlink()
    (OUT_DIR / "outcomes.json").unlink(missing_ok=True)
    cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-u", str(args.users), "-r", str(args.spawn_rate),
           "-t", args.run_time, "--host", f"http://127.0.0.1:{args.port}", "--csv", str(prefix),
           "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0"]
    log = OUT_DIR / "locust.log"
    say(f"locust: {args.users} users, {args.spawn_rate:g}/s, {args.run_time}  (log: {log.relative_to(BASE_DIR)})")
    env = {**os.environ, "LOADTEST_MANIFEST": str(MANIFEST), "LOADTEST_OUTCOMES": str(OUT_DIR / "outcomes.json")}
    with log.open("wb") as out:
        return subprocess.run(cmd, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT, env=env).returncode


def check_integrity(args) -> tuple[bool, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": args.db_url,
           "DJANGO_DEBUG": "false", "LOG_FORMAT": "text", "DJANGO_LOG_LEVEL": "WARNING",
           "CELERY_BROKER_URL": "memory://"}
    result = subprocess.run([str(PY), "manage.py", "check_integrity"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True)
    text = (result.stdout + result.stderr).strip()
    return result.returncode == 0, text


# --- the report ----------------------------------------------------------------------------


def _num(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_stats() -> tuple[list[dict], dict | None]:
    path = OUT_DIR / "stats_stats.csv"
    if not path.exists():
        return [], None
    rows, total = [], None
    with path.open() as f:
        for row in csv.DictReader(f):
            entry = {"page": f"{row['Type']} {row['Name']}".strip() if row["Name"] != "Aggregated" else "Total",
                     "requests": int(_num(row["Request Count"])), "failures": int(_num(row["Failure Count"])),
                     "p50": _num(row["50%"]), "p95": _num(row["95%"]), "p99": _num(row["99%"]),
                     "rps": _num(row["Requests/s"])}
            if row["Name"] == "Aggregated":
                total = entry
            else:
                rows.append(entry)
    return rows, total


def read_failures() -> list[dict]:
    path = OUT_DIR / "stats_failures.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return [{"page": f"{r['Method']} {r['Name']}", "error": r["Error"], "count": int(_num(r["Occurrences"]))}
                for r in csv.DictReader(f)]


def server_errors_in_log(log_path: Path, request_ids: set[str], *, start: int = 0) -> list[str]:
    """The web's log lines for 5xx requests and the ERROR lines (tracebacks), from byte `start`
    on (the load itself, not /health/ answering 503 while the first sweeps run)."""
    found = []
    if not log_path.exists():
        return found
    with log_path.open("rb") as f:
        f.seek(start)
        text_after = f.read().decode(errors="replace")
    for line in text_after.splitlines():
        text = line.split("|", 1)[1].strip() if "|" in line[:40] else line
        if not text.startswith("{"):
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        status = record.get("status")
        if (isinstance(status, int) and status >= 500) or record.get("level") in ("ERROR", "CRITICAL") \
                or (record.get("request_id") in request_ids and record.get("exc_info")):
            found.append(text if len(text) < 6000 else text[:6000] + "…")
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def server_times(log_path: Path, *, start: int = 0) -> list[str]:
    """The web's own time per route (each request's JSON log line carries duration_ms), from byte
    `start` on: what the server spent, beside what locust saw (that plus the queue before a free
    gunicorn worker, and the network)."""
    by_route: dict[str, list[float]] = {}
    if not log_path.exists():
        return []
    with log_path.open("rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    for line in text.splitlines():
        body = line.split("|", 1)[1].strip() if "|" in line[:40] else line
        if '"duration_ms"' not in body:
            continue
        try:
            record = json.loads(body)
        except ValueError:
            continue
        if record.get("logger") != "licensetree.request":
            continue
        if record.get("path") == "/health/":
            continue
        route = record.get("route")
        # No route: answered before the URL was resolved (the 503 page while the database is away).
        key = f"{record.get('method')} /{route}" if route is not None else \
            f"{record.get('method')} (before any view: HTTP {record.get('status')})"
        by_route.setdefault(key, []).append(float(record["duration_ms"]))
    if not by_route:
        return []
    head = ["route (server time)", "requests", "p50 ms", "p95 ms", "p99 ms"]
    body = [[k, f"{len(v):,}", f"{_percentile(v, .5):,.0f}", f"{_percentile(v, .95):,.0f}",
             f"{_percentile(v, .99):,.0f}"] for k, v in sorted(by_route.items())]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    out = ["| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths,
                                                                                               strict=True))) + " |",
           "|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"]
    out += ["| " + " | ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                              for i, (x, w) in enumerate(zip(row, widths, strict=True))) + " |" for row in body]
    return out


def table(rows: list[dict], total: dict | None) -> list[str]:
    head = ["page", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"]
    body = [[r["page"], f"{r['requests']:,}", f"{r['failures']:,}", f"{r['p50']:,.0f}", f"{r['p95']:,.0f}",
             f"{r['p99']:,.0f}", f"{r['rps']:.2f}"] for r in sorted(rows, key=lambda r: r["page"])]
    if total:
        body.append(["Total", f"{total['requests']:,}", f"{total['failures']:,}", f"{total['p50']:,.0f}",
                     f"{total['p95']:,.0f}", f"{total['p99']:,.0f}", f"{total['rps']:.2f}"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths,
                                                                                                     strict=True))) + " |",
             "|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"]
    for row in body:
        lines.append("| " + " | ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                                       for i, (x, w) in enumerate(zip(row, widths, strict=True))) + " |")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    whole = time.perf_counter()
    timings: dict[str, float] = {}
    if _port_open(args.port):
        say(f"port {args.port} is already in use: not starting a second server there")
        return 2

    timings["data"] = ensure_data(args)
    prod = Prod(args, OUT_DIR / "prod.log")
    locust_rc = None
    restart = None
    log_offset = 0
    stopped = "not started"
    try:
        start = time.perf_counter()
        prod.start()
        timings["health"] = prod.wait_healthy(args.health_timeout)
        say(f"production shape healthy on http://127.0.0.1:{args.port} after {timings['health']:.0f} s")
        start = time.perf_counter()
        log_offset = prod.log_path.stat().st_size
        restart = (DatabaseRestart(args.restart_database_at, args.database_down_for)
                   if args.restart_database_at is not None else None)
        locust_rc = run_locust(args)
        if restart:
            restart.join()
        timings["locust"] = time.perf_counter() - start
        say(f"locust finished (exit status {locust_rc}) in {timings['locust']:.0f} s")
    except RuntimeError as exc:
        say(f"!! {exc}; the end of {prod.log_path.relative_to(BASE_DIR)}:")
        print("\n".join(prod.log_path.read_text(errors="replace").splitlines()[-30:]))
    finally:
        if restart is not None:
            restart.ensure_started()
        start = time.perf_counter()
        stopped = prod.stop()
        timings["stop"] = time.perf_counter() - start
        say(f"production shape stopped ({stopped}) in {timings['stop']:.0f} s")
        if _port_open(args.port):
            say(f"!! port {args.port} still answers after the stop")
    if locust_rc is None:
        return 2

    start = time.perf_counter()
    clean, integrity_text = check_integrity(args)
    timings["integrity"] = time.perf_counter() - start
    say(f"check_integrity: {'clean' if clean else 'PROBLEMS'} ({timings['integrity']:.0f} s)")

    rows, total = read_stats()
    failures = read_failures()
    outcomes = json.loads((OUT_DIR / "outcomes.json").read_text()) if (OUT_DIR / "outcomes.json").exists() else {}
    server_errors = outcomes.get("server_errors", [])
    fives_in_csv = sum(f["count"] for f in failures
                       if any(s in f["error"] for s in ("HTTP 5", "Server Error", "HTTPError('5", "HTTPError(\"5")))
    five_xx = max(len(server_errors), fives_in_csv)
    drill_lines: list[str] = []
    if restart is not None:
        # The drill's own rule: 503 pages saying nothing was saved, only while the database is away.
        five_xx, drill_lines = restart.judge(server_errors, outcomes)
    contention = outcomes.get("contention", {})
    over = contention.get("over_allocated_rounds", [])
    log_errors = server_errors_in_log(prod.log_path, {e.get("request_id") for e in server_errors}, start=log_offset)
    timings["whole"] = time.perf_counter() - whole
    failed = five_xx > 0 or not clean or bool(over)

    manifest = json.loads(MANIFEST.read_text())
    lines = [f"# Load test {datetime.now():%Y-%m-%d %H:%M}", "",
             f"{args.users} users (dealer administrators), spawn rate {args.spawn_rate:g}/s, {args.run_time}, "
             f"against `make prod` on http://127.0.0.1:{args.port} (gunicorn, 2 Celery workers, beat; "
             f"PostgreSQL `{args.db_url.rsplit('/', 1)[-1]}`, {manifest['groups']:,} groups; broker {args.redis_url}).",
             "", *table(rows, total), ""]
    if total:
        lines.append(f"Throughput: {total['rps']:.2f} requests/s over {total['requests']:,} requests; "
                     f"failures {total['failures']:,}.")
    served = server_times(prod.log_path, start=log_offset)
    if served:
        lines += ["", "The same requests as the server timed them (its JSON log's duration_ms; the gap to "
                  "the table above is the wait for a free gunicorn worker on this machine's 2 cores):", "",
                  *served, ""]
    if restart is None:
        lines.append(f"5xx responses: {five_xx}" + (" (none)" if not five_xx else ""))
    else:
        lines.append(f"Breaches of the PostgreSQL drill's rule: {five_xx}" + (" (none)" if not five_xx else ""))
    if contention:
        lines.append(f"Contention pool (room {contention.get('room', {}).get('virtual_numbers')} virtual numbers, "
                     f"each racer asks {contention.get('ask')}): {contention.get('rounds', 0)} rounds, "
                     f"{contention.get('accepted', 0)} accepted, {contention.get('refused', 0)} refused with the form's "
                     f"error; rounds with more accepted than fit: {len(over)}" + (f" {over}" if over else ""))
        if contention.get("refusal_samples"):
            lines.append(f"A refusal as the racer saw it: “{contention['refusal_samples'][0]}”")
    counts = outcomes.get("counts", {})
    if counts:
        lines.append("Saves: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    lines.append(f"Integrity (manage.py check_integrity): {'clean' if clean else 'NOT CLEAN'} — "
                 f"{integrity_text.splitlines()[-1] if integrity_text else ''}")
    lines.append(f"Timing: data {timings['data']:.0f} s, server up {timings.get('health', 0):.0f} s, "
                 f"locust {timings.get('locust', 0):.0f} s, stop {timings['stop']:.0f} s ({stopped}), "
                 f"integrity {timings['integrity']:.0f} s; whole run {timings['whole']:.0f} s.")
    other_failures = [f for f in failures if not any(s in f["error"] for s in ("HTTP 5", "Server Error"))]
    if other_failures:
        lines += ["", "## Failures (not 5xx)", ""] + [f"- {f['count']} × {f['page']}: {f['error']}" for f in other_failures]
    if outcomes.get("unexpected_refusals"):
        lines += ["", "First unexpected answers:", ""] + [f"- {r}" for r in outcomes["unexpected_refusals"][:10]]
    if outcomes.get("no_response"):
        lines += ["", f"## Requests without a response: {len(outcomes['no_response'])}", ""] + \
            [f"- {e['at']} {e['name']} {e['url']}: {e['error']}" for e in outcomes["no_response"][:10]]
    lines += drill_lines
    if server_errors:
        lines += ["", "## 5xx responses", ""] + [f"- {e['at']} HTTP {e['status']} {e['method']} {e['url']} "
                                                 f"({e['name']}), request id {e['request_id']}" for e in server_errors[:30]]
    if log_errors:
        lines += ["", "## Errors in the web's log (prod.log)", "", "```"] + log_errors[:20] + ["```"]
    if not clean:
        lines += ["", "## check_integrity", "", "```", integrity_text[-5000:], "```"]
    lines += ["", f"Verdict: {'FAIL' if failed else 'PASS'}"]
    report = "\n".join(lines) + "\n"
    (OUT_DIR / "report.md").write_text(report)
    print()
    print(report)
    say(f"report written to {(OUT_DIR / 'report.md').relative_to(BASE_DIR)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
