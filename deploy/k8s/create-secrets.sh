#!/usr/bin/env bash
# Creates the Secrets authtrail needs in one namespace, with fresh random
# values, and leaves every Secret that already exists untouched (PostgreSQL
# keeps the passwords it was initialised with; re-keying is a rotation, see
# docs/deploy.md). Nothing secret is printed or written to disk.
#
#   deploy/k8s/create-secrets.sh authtrail-dev
#   SMTP_USERNAME=... SMTP_PASSWORD=... AUDIT_ALERT_WEBHOOK_URL=... \
#     deploy/k8s/create-secrets.sh authtrail
#
# Needs kubectl (pointing at the cluster) and openssl.
set -euo pipefail

namespace="${1:?usage: create-secrets.sh NAMESPACE}"
k() { kubectl --namespace "$namespace" "$@"; }

exists() { k get secret "$1" >/dev/null 2>&1; }

create() {
  local name="$1"
  shift
  if exists "$name"; then
    echo "secret/$name exists: kept"
  else
    k create secret generic "$name" "$@" >/dev/null
    echo "secret/$name created"
  fi
}

password() { openssl rand -hex 24; }

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

create postgres-superuser --from-literal=password="$(password)"

# The services' database logins: the same password goes to PostgreSQL (which
# creates the roles on its first start) and into each service's URL.
if ! exists postgres-service-passwords; then
  identity_pw="$(password)" notifier_pw="$(password)" audit_pw="$(password)"
  create postgres-service-passwords \
    --from-literal=identity="$identity_pw" \
    --from-literal=notifier="$notifier_pw" \
    --from-literal=audit="$audit_pw"
  for service in identity notifier audit; do
    pw_var="${service}_pw"
    create "$service-database" \
      --from-literal=url="postgresql+asyncpg://$service:${!pw_var}@postgres:5432/$service"
  done
fi

# Ed25519 key that signs access tokens (identity only).
if ! exists identity-jwt; then
  key_dir="$(mktemp -d)"
  trap 'rm -rf "$key_dir"' EXIT
  openssl genpkey -algorithm ed25519 -out "$key_dir/signing-key.pem"
  create identity-jwt --from-file=signing-key.pem="$key_dir/signing-key.pem"
fi

# Fernet key sealing the tokens identity hands to the notifier (both only).
create token-sealing \
  --from-literal=keys="$(openssl rand -base64 32 | tr '+/' '-_')"

if [[ -n "${SMTP_USERNAME:-}" ]]; then
  create notifier-smtp \
    --from-literal=username="$SMTP_USERNAME" \
    --from-literal=password="${SMTP_PASSWORD:?SMTP_PASSWORD goes with SMTP_USERNAME}"
fi

if [[ -n "${AUDIT_ALERT_WEBHOOK_URL:-}" ]]; then
  create audit-webhook --from-literal=url="$AUDIT_ALERT_WEBHOOK_URL"
fi
