#!/usr/bin/env bash
# Serve the app locally. With Redis running, a report worker and a sweeper run beside the web server and stop with
# it; without Redis, PDFs render inside the request instead. A loop closes quote requests past their deadline.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if $BIN/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=0.5).ping()" "$REDIS_URL" 2>/dev/null; then
  echo "Redis at $REDIS_URL: starting a report worker and the sweeper"
  $BIN/rq worker reports --url "$REDIS_URL" --logging_level WARNING &
  pids+=($!)
  (while sleep 60; do $BIN/flask --app wsgi sweep-reports >/dev/null 2>&1 || true; done) &
  pids+=($!)
else
  echo "No Redis at $REDIS_URL: PDF reports render inside the request"
fi
# Billing: without Stripe keys the local Stripe stand-in plays Stripe (docs/stripe-standin.md, docs/billing.md): its
# state survives restarts, the platform's prices are seeded, and a WeChat Pay / Alipay order settles by itself.
if [ -z "${STRIPE_SECRET_KEY:-}" ] && [ "${APP_ENV:-development}" != "production" ]; then
  mkdir -p instance
  export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:${STANDIN_PORT:-12111}}"
  $BIN/python -c "import json; from saas.billing.plans import seed; print(json.dumps(seed()))" > instance/stripe-prices.json
  $BIN/python -m saas.billing.standin --host 127.0.0.1 --port "${STANDIN_PORT:-12111}" \
    --webhook-url http://127.0.0.1:5000/billing/webhook --webhook-secret "${STRIPE_WEBHOOK_SECRET:-whsec_local_dev}" \
    --state instance/stripe-standin.json --seed instance/stripe-prices.json --async-auto-confirm-ms 5000 --quiet &
  pids+=($!)
  echo "No Stripe keys: the local Stripe stand-in serves http://127.0.0.1:${STANDIN_PORT:-12111} (no real money moves)"
  (while sleep 300; do $BIN/flask --app wsgi stripe-reconcile >/dev/null 2>&1 || true; done) &
  pids+=($!)
fi
# Quote requests past their deadline read as closed at once; this stores the closed status every few minutes.
(while sleep 300; do $BIN/flask --app wsgi close-rfqs >/dev/null 2>&1 || true; done) &
pids+=($!)
echo "Serving at http://127.0.0.1:5000 (Ctrl-C stops)"
$BIN/flask --app wsgi run --host 127.0.0.1 --port 5000
