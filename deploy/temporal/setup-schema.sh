#!/bin/sh
# Creates Temporal's two MySQL 8 databases (history and visibility) and brings their schemas to the
# version this admin-tools image ships. Runs before the server starts and on every deploy:
# `create` of an existing database and `setup-schema -v 0.0` on one that has a schema fail, and are
# let through; `update-schema` then applies only the versions missing, and any real failure (no
# connection, wrong password) stops the script there.
set -eu

: "${MYSQL_SEEDS:?set MYSQL_SEEDS to the MySQL host}"
: "${MYSQL_USER:?set MYSQL_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (temporal-sql-tool reads the password from it)}"
DB_PORT=${DB_PORT:-3306}
SCHEMA_DIR=/etc/temporal/schema/mysql/v8

sql() {
  temporal-sql-tool --plugin mysql8 --ep "$MYSQL_SEEDS" -p "$DB_PORT" -u "$MYSQL_USER" "$@"
}

for pair in "${TEMPORAL_DB:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}:visibility"; do
  db=${pair%%:*}
  schema=${pair##*:}
  echo "database $db ($schema schema)"
  sql --db "$db" create || echo "  $db exists"
  sql --db "$db" setup-schema -v 0.0 || echo "  $db already has a schema"
  sql --db "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo 'Temporal schema is up to date'
