"""A throwaway PostgreSQL for the ledger tests: a cluster started from the distribution's server
binaries (initdb, pg_ctl) in a temporary folder, on 127.0.0.1 and a free port with trust
authentication, a fresh database for each test, and everything stopped and removed at the end.

PostgreSQL refuses to run as root, so as root the binaries run as the unprivileged `postgres`
user (`runuser -u postgres --`), which owns the folder. Without the binaries, or when the cluster
cannot start, the PostgreSQL cases skip and say how to enable them. CONCERTO_TEST_POSTGRES_URL names
an existing empty database to use instead (the tests then drop Concerto's tables in it before each
test, and create no databases).

The fixtures (`postgres_cluster`, `postgres_url`, `ledger`) are registered by tests/conftest.py;
`ledger` runs a test once on each store.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from solver.store import PlanStore, SqlitePlanStore

URL_VARIABLE = "CONCERTO_TEST_POSTGRES_URL"
SEARCH_PATH = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
"""Where Debian and Ubuntu put the server binaries (they are on PATH too on some machines)."""
HOW_TO_ENABLE = (
    "install the PostgreSQL server binaries (initdb and pg_ctl, e.g. apt-get install postgresql) and, when "
    f"running as root, have a `postgres` user; or set {URL_VARIABLE} to an existing empty database "
    "(postgresql://USER@HOST:PORT/DATABASE)"
)
_TABLES = (
    "decisions",
    "signoffs",
    "plans",
    "networks",
    "audit",
    "inbox",
    "network_settings",
    "holds",
    "carried",
    "leases",
)


def _binary(name: str) -> str | None:
    for folder in SEARCH_PATH:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    """A running cluster (or an existing database) that hands out fresh databases."""

    admin_url: str
    """A database to run CREATE DATABASE in (or the given database itself)."""
    base_url: str
    """The URL without its database: a database name is appended."""
    owned: bool
    """Whether this session started the cluster (else the URL came from URL_VARIABLE)."""
    startup_seconds: float = 0.0
    _names: Iterator[int] = field(default_factory=itertools.count)

    def new_database(self) -> str:
        """The URL of an empty database: a new one in an owned cluster, the given one emptied."""
        import psycopg

        if not self.owned:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS concerto_schema, {', '.join(_TABLES)} CASCADE")
            return self.admin_url
        name = f"concerto_test_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY file_copy")
        return f"{self.base_url}/{name}"


class _Runner:
    """Runs the server binaries as the unprivileged `postgres` user when this process is root."""

    def __init__(self) -> None:
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else None

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run(prefix + argv, capture_output=True, text=True, timeout=120, check=False)


def start_cluster(folder: Path) -> PostgresCluster:
    """Initialise and start a cluster in `folder`; raises RuntimeError saying why it cannot."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    runner = _Runner()
    if runner.as_root:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, and there is no `postgres` user to run PostgreSQL as") from None
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data = folder / "data"
    started = time.monotonic()
    done = runner.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
    )
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    port = _free_port()
    # A test cluster: nothing needs to survive a crash, so no fsync.
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    done = runner.run([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "-t", "60", "start"])
    if done.returncode != 0:
        log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip() or done.stdout.strip()} {log}")
    base = f"postgresql://postgres@127.0.0.1:{port}"
    return PostgresCluster(f"{base}/postgres", base, owned=True, startup_seconds=time.monotonic() - started)


def stop_cluster(folder: Path) -> None:
    pg_ctl = _binary("pg_ctl")
    if pg_ctl is not None and (folder / "data" / "postmaster.pid").exists():
        _Runner().run([pg_ctl, "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"])
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL; skips (once, for every test that needs it) when there is none."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed: pip install -r requirements-test.lock (or concerto[postgres])")
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield PostgresCluster(given, "", owned=False)
        return
    # Not under pytest's tmp_path: its folders are private to this user, and `postgres` must enter it.
    folder = Path(tempfile.mkdtemp(prefix="concerto-pg-"))
    try:
        cluster = start_cluster(folder)
    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
        stop_cluster(folder)
        pytest.skip(f"no PostgreSQL for the ledger tests ({err}); to run them, {HOW_TO_ENABLE}")
    try:
        yield cluster
    finally:
        stop_cluster(folder)


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """An empty database of the session's PostgreSQL, for this test alone."""
    return postgres_cluster.new_database()


@dataclass
class Ledger:
    """One ledger the contract tests open stores on: a SQLite file, or a PostgreSQL database."""

    kind: str
    """"sqlite" or "postgres"."""
    url: str
    opened: list[PlanStore] = field(default_factory=list)

    def open(self, **options: Any) -> PlanStore:
        """Another store on this ledger (another connection: on PostgreSQL, as another replica would)."""
        store: PlanStore
        if self.kind == "sqlite":
            store = SqlitePlanStore(self.url, **options)
        else:
            from solver.store_postgres import PostgresPlanStore

            store = PostgresPlanStore(self.url, **options)
        self.opened.append(store)
        return store


LEDGER_KINDS = ("sqlite", "postgres")


@pytest.fixture(params=LEDGER_KINDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """The test runs once on a SQLite file and once on a PostgreSQL database (skipped without one)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else str(tmp_path / "ledger.db")
    made = Ledger(request.param, url)
    try:
        yield made
    finally:
        for store in made.opened:
            store.close()
