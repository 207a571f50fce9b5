#!/usr/bin/env bash
# Creates the topics authtrail uses, if missing; run once before the services.
# Settings come from the environment, named as the services name them.
# The same script runs in Compose and as the Kubernetes topics Job
# (deploy/k8s/base/kafka/create-topics.sh is an identical copy).
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP_SERVERS:?KAFKA_BOOTSTRAP_SERVERS is required}"
partitions="${TOPIC_PARTITIONS:-6}"
replication="${TOPIC_REPLICATION_FACTOR:-1}"
min_isr="${TOPIC_MIN_INSYNC_REPLICAS:-1}"
# -1 keeps auth events for ever: `audit rebuild` re-reads the topic from the
# start. Shorten it where personal data must expire (docs/deploy.md).
events_retention_ms="${EVENTS_RETENTION_MS:--1}"
dead_letter_retention_ms="${DEAD_LETTER_RETENTION_MS:-1209600000}"
dlq_suffix="${DEAD_LETTER_SUFFIX:-.dlq}"
bin=/opt/kafka/bin

for attempt in $(seq 1 60); do
  if "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$bootstrap" >/dev/null 2>&1; then
    break
  fi
  echo "waiting for the brokers at $bootstrap (attempt $attempt)"
  sleep 5
done

create() {
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$1" --partitions "$partitions" --replication-factor "$replication" \
    --config "min.insync.replicas=$min_isr" --config "retention.ms=$2"
}

for topic in \
  "${AUTH_EVENTS_TOPIC:-auth.events}" \
  "${NOTIFICATION_EVENTS_TOPIC:-notification.events}" \
  "${ALERTS_TOPIC:-audit.alerts}"; do
  create "$topic" "$events_retention_ms"
  create "$topic$dlq_suffix" "$dead_letter_retention_ms"
done

"$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe
