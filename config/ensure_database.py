"""`python -m config.ensure_database URL`: create the PostgreSQL database URL names if it is missing
(make prod, make loadtest); the server itself must be running."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def ensure(url: str) -> bool:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


if __name__ == "__main__":
    created = ensure(sys.argv[1])
    print(("created database " if created else "database exists: ") + urlsplit(sys.argv[1]).path.lstrip("/"))
