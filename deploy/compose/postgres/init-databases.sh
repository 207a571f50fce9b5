#!/usr/bin/env bash
# One database and one login per service, on the first start of an empty
# data directory (docker-entrypoint-initdb.d). Local use only: each password
# equals its user name. Kubernetes reads real passwords from a Secret instead
# (deploy/k8s/base/postgres/init-databases.sh).
set -euo pipefail

for service in identity notifier audit; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE $service LOGIN PASSWORD '$service';
CREATE DATABASE $service OWNER $service;
REVOKE ALL ON DATABASE $service FROM PUBLIC;
SQL
done
