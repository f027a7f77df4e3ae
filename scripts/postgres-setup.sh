#!/usr/bin/env bash
# Set up a PostgreSQL database for the app, idempotently (run it again at any time: it changes nothing that is right).
#
#   1. the owner role (DB_OWNER, default jx_owner; BYPASSRLS for backups and restores) and the app role (APP_DB_ROLE,
#      default jx_app; NOBYPASSRLS, owning nothing), both LOGIN with a password, neither a superuser;
#   2. the database (DB_NAME, default jx) owned by the owner role, with CONNECT for these two roles only;
#   3. the migrations, run as the owner (they grant the app role DML only and turn on row-level security);
#   4. DATABASE_URL and MIGRATIONS_DATABASE_URL, printed and written to CREDENTIALS_FILE (mode 600).
#
# Passwords: DB_OWNER_PASSWORD / APP_DB_PASSWORD from the environment; else the ones in CREDENTIALS_FILE from an
# earlier run; else new random ones. Only a SCRAM-SHA-256 verifier computed here is sent to the server, so the
# plain password never appears in its statement log. The administrative connection uses libpq's own environment
# (PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass) and needs a role that may create roles and databases.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
FLASK="${FLASK:-.venv/bin/flask}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB_NAME="${DB_NAME:-jx}"
DB_OWNER="${DB_OWNER:-jx_owner}"
APP_DB_ROLE="${APP_DB_ROLE:-jx_app}"
CREDENTIALS_FILE="${CREDENTIALS_FILE:-instance/postgres-$DB_NAME.env}"
# The host written into the URLs (the app may reach the server under another name than this script does).
DB_URL_HOST="${DB_URL_HOST:-$PGHOST}"

for name in "$DB_NAME" "$DB_OWNER" "$APP_DB_ROLE"; do
  if [[ ! "$name" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "postgres-setup: '$name' is not a plain lower-case identifier" >&2
    exit 2
  fi
done
if [ "$DB_OWNER" = "$APP_DB_ROLE" ]; then
  echo "postgres-setup: the app role must not be the owner (row-level security would not bind it)" >&2
  exit 2
fi

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d postgres "$@"; }
# sql_admin "SQL" [-v name=value ...]: psql substitutes :'name' (quoted safely) only in what it reads, not in -c.
sql_admin() { local sql="$1"; shift; printf '%s\n' "$sql" | psql_admin "$@"; }

# Passwords remembered from an earlier run (the file holds plain KEY=VALUE lines written below).
saved() { [ -f "$CREDENTIALS_FILE" ] && sed -n "s/^$1=//p" "$CREDENTIALS_FILE" | tail -n 1 || true; }
new_password() { "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))'; }
OWNER_PASSWORD="${DB_OWNER_PASSWORD:-$(saved DB_OWNER_PASSWORD)}"
APP_PASSWORD="${APP_DB_PASSWORD:-$(saved APP_DB_PASSWORD)}"
OWNER_PASSWORD="${OWNER_PASSWORD:-$(new_password)}"
APP_PASSWORD="${APP_PASSWORD:-$(new_password)}"

# A SCRAM-SHA-256 verifier (RFC 7677, PostgreSQL's stored format) for the password in $PASSWORD.
scram() {
  "$PYTHON" -c '
import base64, hashlib, hmac, os
password = os.environ["PASSWORD"].encode()
salt, iterations = os.urandom(16), 4096
salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
stored_key = hashlib.sha256(client_key).digest()
server_key = hmac.new(salted, b"Server Key", "sha256").digest()
b64 = lambda b: base64.b64encode(b).decode()
print(f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}")'
}

# Does the stored verifier of a role already match this password? Then it is left alone (a re-run changes nothing).
password_matches() {
  local role="$1" password="$2" stored
  stored=$(sql_admin "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = :'role'" -At -v role="$role" 2>/dev/null || true)
  [ -n "$stored" ] || return 1
  STORED="$stored" PASSWORD="$password" "$PYTHON" -c '
import base64, hashlib, hmac, os, sys
stored = os.environ["STORED"]
if not stored.startswith("SCRAM-SHA-256$"):
    sys.exit(1)
head, keys = stored[len("SCRAM-SHA-256$"):].split("$")
iterations, salt = head.split(":")
stored_key = keys.split(":")[0]
salted = hashlib.pbkdf2_hmac("sha256", os.environ["PASSWORD"].encode(), base64.b64decode(salt), int(iterations))
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
sys.exit(0 if hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key) else 1)' \
    2>/dev/null
}

ensure_role() {
  local role="$1" password="$2" attributes="$3" verifier
  if [ "$(sql_admin "SELECT count(*) FROM pg_roles WHERE rolname = :'role'" -At -v role="$role")" = "0" ]; then
    verifier=$(PASSWORD="$password" scram)
    sql_admin "SELECT format('CREATE ROLE %I LOGIN $attributes PASSWORD %L', :'role', :'verifier') \gexec" \
      -v role="$role" -v verifier="$verifier"
    echo "created role $role"
  else
    sql_admin "SELECT format('ALTER ROLE %I LOGIN $attributes', :'role') \gexec" -v role="$role"
    if password_matches "$role" "$password"; then
      echo "role $role exists with this password"
    else
      verifier=$(PASSWORD="$password" scram)
      sql_admin "SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'verifier') \gexec" \
        -v role="$role" -v verifier="$verifier"
      echo "role $role exists: password set"
    fi
  fi
}

# The owner runs migrations, backups and restores: it must read and write every firm's rows past the forced RLS.
ensure_role "$DB_OWNER" "$OWNER_PASSWORD" "NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
ensure_role "$APP_DB_ROLE" "$APP_PASSWORD" "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"

if [ "$(sql_admin "SELECT count(*) FROM pg_database WHERE datname = :'db'" -At -v db="$DB_NAME")" = "0" ]; then
  sql_admin "SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'owner', 'UTF8') \gexec" \
    -v db="$DB_NAME" -v owner="$DB_OWNER"
  echo "created database $DB_NAME"
else
  sql_admin "SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'owner') \gexec" -v db="$DB_NAME" -v owner="$DB_OWNER"
  echo "database $DB_NAME exists"
fi
psql_admin -v db="$DB_NAME" -v owner="$DB_OWNER" -v app="$APP_DB_ROLE" <<'SQL'
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'owner') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'app') \gexec
SQL
# Nobody but the owner creates objects in the schema (PostgreSQL 15 already revokes it from PUBLIC; older ones don't).
psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$DB_NAME" -v owner="$DB_OWNER" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') \gexec
SQL

url() {  # url ROLE PASSWORD: a SQLAlchemy URL with both parts percent-encoded (a socket directory as ?host=)
  ROLE="$1" PASSWORD="$2" HOST="$DB_URL_HOST" PORT="$PGPORT" DB="$DB_NAME" "$PYTHON" -c '
import os
from urllib.parse import quote
role, password, host, port, db = (os.environ[k] for k in ("ROLE", "PASSWORD", "HOST", "PORT", "DB"))
user = quote(role, safe="") + ":" + quote(password, safe="")
if host.startswith("/"):
    socket = quote(host, safe="/")
    print(f"postgresql+psycopg://{user}@/{db}?host={socket}&port={port}")
else:
    print(f"postgresql+psycopg://{user}@{host}:{port}/{db}")'
}
DATABASE_URL_VALUE=$(url "$APP_DB_ROLE" "$APP_PASSWORD")
MIGRATIONS_URL_VALUE=$(url "$DB_OWNER" "$OWNER_PASSWORD")

echo "running the migrations as $DB_OWNER"
APP_DB_ROLE="$APP_DB_ROLE" DATABASE_URL="$DATABASE_URL_VALUE" MIGRATIONS_DATABASE_URL="$MIGRATIONS_URL_VALUE" \
  "$FLASK" --app wsgi db upgrade

mkdir -p "$(dirname "$CREDENTIALS_FILE")"
(
  umask 077
  cat >"$CREDENTIALS_FILE" <<EOF
# Written by scripts/postgres-setup.sh; keep it secret (mode 600). Load it with: set -a; . $CREDENTIALS_FILE; set +a
DATABASE_URL=$DATABASE_URL_VALUE
MIGRATIONS_DATABASE_URL=$MIGRATIONS_URL_VALUE
APP_DB_ROLE=$APP_DB_ROLE
DB_OWNER_PASSWORD=$OWNER_PASSWORD
APP_DB_PASSWORD=$APP_PASSWORD
EOF
)
chmod 600 "$CREDENTIALS_FILE"
echo
echo "PostgreSQL is ready. Use these settings (also in $CREDENTIALS_FILE):"
echo "DATABASE_URL=$DATABASE_URL_VALUE"
echo "MIGRATIONS_DATABASE_URL=$MIGRATIONS_URL_VALUE"
echo "APP_DB_ROLE=$APP_DB_ROLE"
