#!/usr/bin/env bash
# One database and one login per service, on the first start of an empty
# data directory (docker-entrypoint-initdb.d). The passwords come from the
# Secret postgres-service-passwords; psql quotes them (:'password').
set -euo pipefail

create() {
  local service="$1" password="$2"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v service="$service" -v password="$password" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
}

create identity "${IDENTITY_DB_PASSWORD:?}"
create notifier "${NOTIFIER_DB_PASSWORD:?}"
create audit "${AUDIT_DB_PASSWORD:?}"
