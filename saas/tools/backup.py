"""``flask backup`` and ``flask restore``: one archive with a consistent database dump and every stored file.

The archive is a ``.tar.gz`` holding

* ``manifest.json``: format, creation time, database dialect, Alembic revision, the app role (PostgreSQL), the row
  count of every table, and the size and SHA-256 of the dump and of every stored file;
* ``database/db.sqlite`` (SQLite) or ``database/db.pgdump`` (PostgreSQL, ``pg_dump`` custom format);
* ``files/<setting>/<path>`` for every file under ``EVIDENCE_DIR``, ``PRODUCT_IMAGE_DIR``, ``REPORTS_DIR`` and
  ``IMPORT_UPLOAD_DIR``.

**Consistency.** SQLite is copied with the online backup API in one read transaction (triggers, the FTS5 index and
its shadow tables, the listing log: the whole file), and the row counts are taken from the copy. PostgreSQL is counted
inside a repeatable-read transaction whose snapshot ``pg_dump --snapshot`` then dumps, so counts and dump agree exactly;
the custom format keeps the row-level security policies (ENABLE and FORCE), the triggers and trigger functions, the
GIN index, the listing log and the app role's grants. Files are copied after the database snapshot, each hashed as it
is archived: a file added meanwhile may be in the archive without its row, one deleted meanwhile may be missing (stop
uploads for an exact pair).

**Connections.** Both commands use ``MIGRATIONS_DATABASE_URL`` (the owner), falling back to ``DATABASE_URL``. On
PostgreSQL that role must bypass row-level security (``scripts/postgres-setup.sh`` creates the owner with BYPASSRLS):
the tables FORCE RLS, so any other role would dump and count no rows of any firm.

**Restore** verifies the whole archive (every member listed, every checksum right, nothing else, no link or path
outside its folder) before it touches anything, refuses a non-empty instance (any table row or stored file) unless
``force``, loads the database (SQLite: the backup API into the target file; PostgreSQL: ``pg_restore --clean
--single-transaction --no-owner`` as the owner), checks every table's row count against the manifest, and moves the
files into place. With ``force``, existing store folders are kept beside the new ones as ``<folder>.replaced-<time>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from flask import Flask
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from config import INSTANCE_DIR
from saas.models import Base

FORMAT = 1
STORES = ("EVIDENCE_DIR", "PRODUCT_IMAGE_DIR", "REPORTS_DIR", "IMPORT_UPLOAD_DIR")
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why (nothing was changed by a restore)."""


@dataclass(frozen=True)
class Summary:
    path: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())

    @property
    def files(self) -> int:
        return len(self.manifest["files"])


def owner_url(app: Flask) -> URL:
    return make_url(app.config.get("MIGRATIONS_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"])


def default_output(now: datetime | None = None) -> Path:

    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return INSTANCE_DIR / "backups" / f"jx-backup-{stamp}.tar.gz"


# --- Backup -----------------------------------------------------------------------------------------------------


def create_backup(app: Flask, output: Path) -> Summary:
    """Write the archive to ``output`` (atomically, mode 600: it holds personal data and password hashes)."""
    url = owner_url(app)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=output.parent) as tmp_name:
        tmp = Path(tmp_name)
        if url.get_backend_name() == "sqlite":
            dump, info = _dump_sqlite(url, tmp)
        elif url.get_backend_name() == "postgresql":
            dump, info = _dump_postgres(app, url, tmp)
        else:
            raise BackupError(f"unsupported database {url.get_backend_name()}")
        partial = tmp / "archive.tar.gz"
        files: list[dict[str, Any]] = []
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            database = _add(tar, f"database/{dump.name}", dump)
            for store in STORES:
                root = Path(app.config[store])
                for path in _files_under(root):
                    relative = path.relative_to(root).as_posix()
                    entry = _add(tar, f"files/{store}/{relative}", path)
                    files.append({"store": store, "path": relative, **entry})
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **info,
                "database": {"member": f"database/{dump.name}", **database},
                "files": files,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            member = tarfile.TarInfo(MANIFEST)
            member.size, member.mode, member.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
            tar.addfile(member, _bytes_io(data))
        os.chmod(partial, 0o600)
        os.replace(partial, output)
    return Summary(output, manifest)


def _files_under(root: Path) -> Iterator[Path]:
    """Regular files under ``root``, sorted; symbolic links are not followed (the app never writes one)."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _bytes_io(data: bytes) -> IO[bytes]:

    return io.BytesIO(data)


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Archive one file, hashing exactly the bytes archived (copied first: the file may change meanwhile)."""
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as copy:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
        size = copy.tell()
        copy.seek(0)
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = size, 0o600, int(path.stat().st_mtime)
        tar.addfile(member, copy)
    return {"sha256": digest.hexdigest(), "size": size}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [row[0] for row in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in _sqlite_tables(conn)}


def _revision(rows: Any) -> str | None:
    found = [row[0] for row in rows]
    return ",".join(sorted(found)) or None


def _dump_sqlite(url: URL, tmp: Path) -> tuple[Path, dict[str, Any]]:
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    dump = tmp / "db.sqlite"
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(dump)
    try:
        source.backup(target)  # one consistent snapshot of the whole file
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        counts = _sqlite_counts(target)
        revision = (
            _revision(target.execute("SELECT version_num FROM alembic_version"))
            if "alembic_version" in counts
            else None
        )
    finally:
        target.close()
        source.close()
    return dump, {"dialect": "sqlite", "alembic_revision": revision, "tables": counts}


def libpq_env(url: URL) -> dict[str, str]:
    """The libpq environment for ``url`` (so no password appears on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    host = url.query.get("host") or url.host
    for key, value in (
        ("PGHOST", host if isinstance(host, str) else None),
        ("PGPORT", str(url.port) if url.port else url.query.get("port")),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = str(value)
    return env


def _pg_engine(url: URL) -> Any:
    return create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)


def _pg_tables(conn: Any) -> list[str]:
    rows = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
    return [row[0] for row in rows]


def _pg_counts(conn: Any) -> dict[str, int]:
    return {
        name: int(conn.execute(text(f'SELECT count(*) FROM public."{name}"')).scalar()) for name in _pg_tables(conn)
    }


def _check_bypass(conn: Any) -> None:
    superuser, bypass = conn.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    if not (superuser or bypass):
        raise BackupError(
            "the PostgreSQL role of MIGRATIONS_DATABASE_URL must bypass row-level security (BYPASSRLS) to back up "
            "or restore every firm's rows; scripts/postgres-setup.sh creates the owner that way"
        )


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode:
        raise BackupError(f"{cmd[0]} failed: {result.stderr.strip()[-2000:]}")


def _dump_postgres(app: Flask, url: URL, tmp: Path) -> tuple[Path, dict[str, Any]]:
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    dump = tmp / "db.pgdump"
    engine = _pg_engine(url)
    try:
        with engine.connect() as conn:
            _check_bypass(conn)
            conn.rollback()
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            counts = _pg_counts(conn)
            revision = _revision(conn.execute(text("SELECT version_num FROM alembic_version")))
            # the same snapshot, held open by this transaction until pg_dump has read it
            _run(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dump}"],
                libpq_env(url),
            )
            conn.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()
    return dump, {
        "dialect": "postgresql",
        "alembic_revision": revision,
        "app_role": app.config["APP_DB_ROLE"],
        "tables": counts,
    }


# --- Restore ----------------------------------------------------------------------------------------------------


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise BackupError(f"unsafe path in the archive: {name!r}")
    return path


def read_verified(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract ``archive`` into ``staging`` and check it against its manifest; return the manifest."""
    expected: dict[str, dict[str, Any]] = {}
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"not a backup archive: {exc}") from exc
    with tar:
        try:
            manifest_member = tar.getmember(MANIFEST)
        except KeyError as exc:
            raise BackupError("the archive has no manifest.json") from exc
        raw = tar.extractfile(manifest_member)
        assert raw is not None
        manifest = json.loads(raw.read())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown archive format {manifest.get('format')!r}")
        expected[manifest["database"]["member"]] = manifest["database"]
        for entry in manifest["files"]:
            if entry["store"] not in STORES:
                raise BackupError(f"unknown store {entry['store']!r}")
            expected[f"files/{entry['store']}/{entry['path']}"] = entry
        seen: set[str] = set()
        for member in tar:
            if member.name == MANIFEST:
                continue
            _member_path(member.name)
            if not member.isfile():
                raise BackupError(f"the archive holds something other than a file: {member.name!r}")
            if member.name not in expected or member.name in seen:
                raise BackupError(f"the archive holds a file its manifest does not list: {member.name!r}")
            seen.add(member.name)
            target = staging / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            source = tar.extractfile(member)
            assert source is not None
            with open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            want = expected[member.name]
            if digest.hexdigest() != want["sha256"] or size != want["size"]:
                raise BackupError(f"checksum mismatch: {member.name}")
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupError(f"the archive lacks {len(missing)} listed file(s), e.g. {missing[0]}")
    return manifest


def _target_rows(url: URL) -> dict[str, int]:
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            return {}
        conn = sqlite3.connect(path)
        try:
            return _sqlite_counts(conn)
        finally:
            conn.close()
    engine = _pg_engine(url)
    try:
        with engine.connect() as conn:
            _check_bypass(conn)
            return _pg_counts(conn)
    finally:
        engine.dispose()


def _nonempty(app: Flask, url: URL) -> list[str]:
    """What makes the target instance non-empty: tables with rows, store folders with files."""

    tables = set(Base.metadata.tables)  # the app's own tables (a fresh FTS5 index already has rows of its own)
    reasons = [f"table {name} has {n} rows" for name, n in _target_rows(url).items() if n and name in tables]
    for store in STORES:
        if next(_files_under(Path(app.config[store])), None) is not None:
            reasons.append(f"{store} ({app.config[store]}) holds files")
    return reasons


def restore_backup(app: Flask, archive: Path, *, force: bool = False) -> Summary:
    """Bring ``archive`` back into this instance (see the module); raise :class:`BackupError` before any change."""
    url = owner_url(app)
    dialect = url.get_backend_name()
    with tempfile.TemporaryDirectory(prefix="jx-restore-") as tmp_name:
        staging = Path(tmp_name)
        manifest = read_verified(archive, staging)
        if manifest["dialect"] != dialect:
            raise BackupError(f"the archive is a {manifest['dialect']} backup; this instance runs {dialect}")
        if dialect == "postgresql" and manifest.get("app_role") != app.config["APP_DB_ROLE"]:
            raise BackupError(
                f"the archive grants to the app role {manifest.get('app_role')!r}; set APP_DB_ROLE to it "
                f"(this instance uses {app.config['APP_DB_ROLE']!r})"
            )
        reasons = _nonempty(app, url)
        if reasons and not force:
            raise BackupError("the instance is not empty (" + "; ".join(reasons[:5]) + "); use --force to replace it")
        app.extensions["database"][0].dispose()  # no pooled connection keeps the old state open
        dump = staging / manifest["database"]["member"]
        if dialect == "sqlite":
            _load_sqlite(url, dump)
        else:
            _load_postgres(url, dump)
        restored = _target_rows(url)
        wrong = {t: (n, restored.get(t)) for t, n in manifest["tables"].items() if restored.get(t) != n}
        if wrong:
            raise BackupError(f"row counts differ after the restore (table: archive, restored): {wrong}")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for store in STORES:
            target = Path(app.config[store])
            source = staging / "files" / store
            if target.exists() and next(_files_under(target), None) is not None:
                target.rename(target.with_name(f"{target.name}.replaced-{stamp}"))
            elif target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.exists():
                shutil.move(str(source), str(target))
            else:
                target.mkdir()
    app.extensions["database"][0].dispose()
    return Summary(archive, manifest)


def _load_sqlite(url: URL, dump: Path) -> None:
    path = _sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    target = sqlite3.connect(path, timeout=30)
    try:
        source.backup(target)  # page by page under the target's write lock; its WAL stays consistent
    finally:
        target.close()
        source.close()


def _load_postgres(url: URL, dump: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    _run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
         f"--dbname={url.database}", str(dump)],
        libpq_env(url),
    )  # fmt: skip
