"""Run the stand-in: ``python -m saas.billing.standin --port N --webhook-url URL --webhook-secret whsec_…``."""

from __future__ import annotations

import argparse
import logging

from saas.billing.standin import catalog
from saas.billing.standin.server import serve
from saas.billing.standin.store import State
from saas.billing.standin.webhooks import Dispatcher


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m saas.billing.standin", description="Local Stripe stand-in")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only (127.0.0.1, localhost or ::1)")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port (printed on start)")
    parser.add_argument("--webhook-url", help="where signed events are POSTed (none: events stay pending)")
    parser.add_argument("--webhook-secret", help="the whsec_… secret the receiver verifies with")
    parser.add_argument("--state", help="JSON file to keep state in across restarts")
    parser.add_argument("--seed", help="YAML/JSON file of products and prices, applied on start and on reset")
    parser.add_argument("--api-key", help="accept only this sk_test_ key (default: any sk_test_ key)")
    parser.add_argument(
        "--async-auto-confirm-ms",
        type=int,
        default=None,
        help="confirm WeChat Pay / Alipay by itself after this delay (0: only by the buttons)",
    )
    parser.add_argument("--webhook-max-attempts", type=int, default=6)
    parser.add_argument("--webhook-retry-base-ms", type=int, default=500)
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = parser.parse_args(argv)
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        parser.error("--webhook-secret must start with whsec_")
    if args.api_key and not args.api_key.startswith("sk_test_"):
        parser.error("--api-key must be a test key (sk_test_…)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    seed = catalog.load_seed(args.seed) if args.seed else None
    state = State(args.state, seed=seed)
    if args.async_auto_confirm_ms is not None:
        state.settings["async_auto_confirm_ms"] = args.async_auto_confirm_ms
    dispatcher = Dispatcher(
        state,
        args.webhook_url,
        args.webhook_secret,
        max_attempts=args.webhook_max_attempts,
        retry_base_ms=args.webhook_retry_base_ms,
    )
    if seed:
        with state.lock:
            catalog.apply_seed(state, seed)
            state.save()
    try:
        serve(args.host, args.port, state, dispatcher, api_key=args.api_key)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
