"""Webhook latency against a running app: 200 signed Stripe events (30% duplicates, shuffled) -> ``webhook_p95_ms``.

Starts, on loopback only: the local Stripe stand-in (``saas.billing.standin``, port 0) and the app (``flask run``) on
a fresh SQLite database with 12 demo firms, aimed at the stand-in. Ten firms get a monthly subscription through the
real ``StripeClient`` and are renewed until the stand-in holds 140 events; each event is then posted to
``/billing/webhook`` signed like Stripe, plus 60 duplicates, in shuffled order, one at a time. Every answer must be
200. Prints ``webhook_p95_ms`` (target <= 50), ``webhook_p50_ms`` and ``webhook_duplicates``.

Usage: ``.venv/bin/python bench/billing.py``
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import stripe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from saas.billing import plans  # noqa: E402

KEY, SECRET = "sk_test_bench_key", "whsec_bench_secret"
UNIQUE, DUPLICATES = 140, 60
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _control(base: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(body or {}).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with NO_PROXY.open(request, timeout=60) as response:
        return json.loads(response.read())


def _wait(url: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while True:
        try:
            NO_PROXY.open(url, timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.2)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jx-bench-billing-"))
    env = dict(
        os.environ, APP_ENV="development", DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", RATELIMIT_STORAGE="memory"
    )
    env.update(
        REPORTS_DIR=str(tmp / "reports"), ARGON2_TIME_COST="1", ARGON2_MEMORY_COST="8192", ARGON2_PARALLELISM="1"
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo", "--firms", "12"], cwd=ROOT, env=env, check=True, capture_output=True)
    standin = subprocess.Popen(
        [sys.executable, "-m", "saas.billing.standin", "--host", "127.0.0.1", "--port", "0", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    standin_url = (standin.stdout.readline() if standin.stdout else "").rsplit(" ", 1)[-1].strip()
    port = _port()
    app_url = f"http://127.0.0.1:{port}"
    env.update(
        STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_API_BASE=standin_url, PUBLIC_BASE_URL=app_url
    )
    app = subprocess.Popen(
        [*flask, "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(app_url + "/healthz", app)
        _control(standin_url, "/_test/seed", plans.seed())
        client = stripe.StripeClient(KEY, base_addresses={"api": standin_url}, max_network_retries=2)
        with sqlite3.connect(tmp / "bench.db") as conn:
            firm_ids = [str(uuid.UUID(row[0])) for row in conn.execute("SELECT id FROM firms LIMIT 10")]
        price = client.v1.prices.list(params={"lookup_keys": ["jx_pro_monthly"]}).data[0].id
        for firm_id in firm_ids:
            customer = client.v1.customers.create(params={"name": firm_id, "metadata": {"firm_id": firm_id}})
            client.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": price}], "metadata": {"firm_id": firm_id}}
            )

        def events() -> list[dict]:
            out, params = [], {"limit": 100}
            while True:
                page = client.v1.events.list(params=params).to_dict(for_json=True)
                out.extend(page["data"])
                if not page["has_more"]:
                    return out
                params["starting_after"] = page["data"][-1]["id"]

        while len(events()) < UNIQUE:
            _control(standin_url, "/_test/clock/advance", {"days": 31})
        unique = events()[:UNIQUE]
        rng = random.Random(13)
        deliveries = unique + [rng.choice(unique) for _ in range(DUPLICATES)]
        rng.shuffle(deliveries)
        timings, outcomes = [], {}
        for event in deliveries:
            body = json.dumps(event).encode()
            t = int(time.time())
            mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            request = urllib.request.Request(
                app_url + "/billing/webhook",
                data=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={mac}"},
            )
            start = time.perf_counter()
            with NO_PROXY.open(request, timeout=30) as response:
                answer = json.loads(response.read())
                assert response.status == 200, response.status
            timings.append((time.perf_counter() - start) * 1000)
            outcomes[answer["outcome"]] = outcomes.get(answer["outcome"], 0) + 1
        timings.sort()
        print(f"webhook_events={len(deliveries)}")
        print(f"webhook_duplicates={outcomes.get('duplicate', 0)}")
        print(f"webhook_p50_ms={timings[len(timings) // 2]:.1f}")
        print(f"webhook_p95_ms={timings[int(len(timings) * 0.95) - 1]:.1f}")
    finally:
        for proc in (app, standin):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
