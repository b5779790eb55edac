"""Choose and prepare the benchmark's database before Django is set up.

Nothing here imports Django's ORM: DATABASE_URL must be final before django.setup().
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = BASE_DIR / "var" / "bench.sqlite3"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


@dataclass(frozen=True)
class DatabaseChoice:
    url: str
    description: str
    sqlite_path: Path | None = None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def prepare(*, fresh: bool, sqlite_path: Path | None = None) -> DatabaseChoice:
    """Point DATABASE_URL at the benchmark database, creating it if needed.

    Without DATABASE_URL: a fresh SQLite file, `sqlite_path` or var/bench.sqlite3 (deleted
    first: give another path to run beside a benchmark that is still writing the default one).
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        path = (sqlite_path or DEFAULT_SQLITE).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        os.environ["DATABASE_URL"] = url
        return DatabaseChoice(url, f"SQLite, fresh file {path}", path)
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in POSTGRES_SCHEMES:
        note = _ensure_postgres_database(url, fresh=fresh)
        return DatabaseChoice(url, f"PostgreSQL {_without_password(url)} ({note})")
    if scheme == "sqlite":
        path = urlsplit(url).path
        return DatabaseChoice(url, f"SQLite from DATABASE_URL {url} (kept, not deleted)",
                              Path(path[1:]) if path.startswith("//") else None)
    return DatabaseChoice(url, f"DATABASE_URL {_without_password(url)}")


def _ensure_postgres_database(url: str, *, fresh: bool) -> str:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SystemExit("DATABASE_URL names no database")
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "dbname": "postgres",
        "autocommit": True,
        "connect_timeout": 10,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
            dropped = True
        else:
            dropped = False
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return "dropped and created" if dropped else "created"
    return "existing database, reused"
