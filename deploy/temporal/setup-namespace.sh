#!/bin/sh
# Once the server answers: creates Railyard's namespace and registers its search attributes
# (the same list as core/transfer.ts SEARCH_ATTRIBUTE_TYPES; test/compose.test.ts keeps them equal).
# Safe on every deploy: what exists is left alone.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to host:port of the frontend}"
: "${NAMESPACE:?set NAMESPACE}"
RETENTION=${NAMESPACE_RETENTION:-30d}
ATTEMPTS_MAX=60

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS_MAX" ]; then
    echo "Temporal at $TEMPORAL_ADDRESS is not healthy after $ATTEMPTS_MAX attempts"
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi

# A namespace just created can take a few seconds to be usable everywhere in the cluster.
for attribute in TransferStatus:Keyword TransferRail:Keyword TransferClientId:Keyword TransferCurrency:Keyword TransferAmountMinor:Int; do
  name=${attribute%%:*}
  type=${attribute##*:}
  attempt=1
  until temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" | grep -qw "$name" \
    || temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type"; do
    if [ "$attempt" -ge "$ATTEMPTS_MAX" ]; then
      echo "could not register search attribute $name"
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
  echo "search attribute $name ($type)"
done
