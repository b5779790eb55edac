"""The load test: 50 dealer administrators on the production shape (`python -m bench.loadtest`).

data.py builds the PostgreSQL database `licensetree_load` through the services, locustfile.py
is what the people do, __main__.py runs the whole thing and prints the report.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
OUT_DIR = BASE_DIR / "var" / "loadtest"
MANIFEST = OUT_DIR / "manifest.json"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/licensetree_load"
# The only database this package ever drops.
DROPPABLE = "licensetree_load"
PASSWORD = "load-pass-2026"
