"""``scripts/postgres-setup.sh``: run twice against the local server with scratch names, then used as the app would.

The local test server trusts every connection, so a successful login proves nothing about the password: the test also
checks the stored SCRAM verifier of each role against the password the script printed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import DB_PREFIX, PG_URL, ROOT, service_missing

pytestmark = pytest.mark.postgres_only

SCRIPT = ROOT / "scripts" / "postgres-setup.sh"


def _settings(output: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in output.splitlines() if line.startswith(("DATABASE_URL=", "MIGR", "APP_"))
    )


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's stored SCRAM-SHA-256 verifier was made from ``password`` (RFC 5802 StoredKey)."""
    assert verifier.startswith("SCRAM-SHA-256$"), verifier[:20]
    head, keys = verifier.removeprefix("SCRAM-SHA-256$").split("$")
    iterations, salt = head.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    return hmac.compare_digest(base64.b64encode(stored_key).decode(), keys.split(":")[0])


@pytest.fixture()
def scratch(tmp_path: Path):
    """Scratch database and role names on the test server; everything is dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "DB_NAME": f"{DB_PREFIX}_setup_{suffix}",
        "DB_OWNER": f"{DB_PREFIX}_owner_{suffix}",
        "APP_DB_ROLE": f"{DB_PREFIX}_app_{suffix}",
    }
    base = make_url(PG_URL)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - the server is absent
        admin.dispose()
        service_missing(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    env = {
        **os.environ,
        **names,
        "PGHOST": base.host or "127.0.0.1",
        "PGPORT": str(base.port or 5432),
        "PGUSER": base.username or "postgres",
        "CREDENTIALS_FILE": str(tmp_path / "postgres.env"),
        "PYTHON": str(ROOT / ".venv" / "bin" / "python"),
        "FLASK": str(ROOT / ".venv" / "bin" / "flask"),
    }
    for key in ("DATABASE_URL", "MIGRATIONS_DATABASE_URL", "DB_OWNER_PASSWORD", "APP_DB_PASSWORD"):
        env.pop(key, None)
    try:
        yield env, admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names["DB_NAME"]}" WITH (FORCE)'))
            for role in (names["APP_DB_ROLE"], names["DB_OWNER"]):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["bash", str(SCRIPT)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_setup_is_idempotent_and_the_app_role_has_a_password_and_rls(scratch):
    env, admin = scratch
    first = _settings(_run(env).stdout)
    second_run = _run(env)
    second = _settings(second_run.stdout)
    # The second run keeps the passwords (from the credentials file) and changes nothing that was right.
    assert first == second
    assert "created" not in second_run.stdout
    assert (Path(env["CREDENTIALS_FILE"]).stat().st_mode & 0o077) == 0

    app_url, owner_url = make_url(second["DATABASE_URL"]), make_url(second["MIGRATIONS_DATABASE_URL"])
    assert app_url.username == env["APP_DB_ROLE"] and owner_url.username == env["DB_OWNER"]
    assert app_url.database == owner_url.database == env["DB_NAME"]
    assert app_url.password and owner_url.password and app_url.password != owner_url.password

    with admin.connect() as conn:
        roles = {
            name: (verifier, superuser, bypass)
            for name, verifier, superuser, bypass in conn.execute(
                text("SELECT rolname, rolpassword, rolsuper, rolbypassrls FROM pg_authid WHERE rolname IN (:a, :o)"),
                {"a": env["APP_DB_ROLE"], "o": env["DB_OWNER"]},
            )
        }
        db_owner = conn.scalar(
            text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"), {"d": env["DB_NAME"]}
        )
    assert db_owner == env["DB_OWNER"]
    for role, url in ((env["APP_DB_ROLE"], app_url), (env["DB_OWNER"], owner_url)):
        verifier, superuser, bypass = roles[role]
        assert verifier and _scram_matches(verifier, url.password), role
        assert not superuser
    assert not roles[env["APP_DB_ROLE"]][2]  # the app role cannot bypass RLS
    assert roles[env["DB_OWNER"]][2]  # the owner (migrations, backup, restore) reads every firm's rows

    # Seed one firm's row as the superuser (bypassing RLS), then read and write as the app role with its password.
    firm, other = uuid.uuid4(), uuid.uuid4()
    owner_admin = create_engine(make_url(PG_URL).set(database=env["DB_NAME"]))
    app_engine = create_engine(app_url)
    try:
        with owner_admin.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO firms (id, name, uscc, industry, county, employees, revenue_wan, size_class, "
                    "contact_name, created_at, certifications) VALUES (:id, '测试', '91330400MA0000001X', 'silk', "
                    "'nanhu', 10, 100, 'micro', '张三', now(), '[]')"
                ),
                {"id": firm},
            )
            conn.execute(
                text(
                    "INSERT INTO invitations (firm_id, id, email, role, token_hash, expires_at, created_at) "
                    "VALUES (:f, :i, 'x@example.com', 'member', 'h', now(), now())"
                ),
                {"f": firm, "i": uuid.uuid4()},
            )
        with app_engine.begin() as conn:
            who, owned = conn.execute(
                text(
                    "SELECT current_user, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tableowner = current_user)"
                )
            ).one()
            assert who == env["APP_DB_ROLE"] and owned == 0
            assert conn.scalar(text("SELECT count(*) FROM invitations")) == 0  # no tenant: nothing
            conn.execute(text("SELECT set_config('app.current_firm', :f, true)"), {"f": str(other)})
            assert conn.scalar(text("SELECT count(*) FROM invitations")) == 0
            conn.execute(text("SELECT set_config('app.current_firm', :f, true)"), {"f": str(firm)})
            assert conn.scalar(text("SELECT count(*) FROM invitations")) == 1
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.current_firm', :f, true)"), {"f": str(other)})
            conn.execute(
                text(
                    "INSERT INTO invitations (firm_id, id, email, role, token_hash, expires_at, created_at) "
                    "VALUES (:f, :i, 'y@example.com', 'member', 'h', now(), now())"
                ),
                {"f": firm, "i": uuid.uuid4()},
            )
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("CREATE TABLE intruder (id int)"))
    finally:
        app_engine.dispose()
        owner_admin.dispose()
