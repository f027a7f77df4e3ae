"""Stripe stand-in fixtures: one stand-in process and one webhook receiver for the session, reset per test.

``stripe_standin`` yields a ``standin_support.Standin`` (URL, real ``StripeClient``, ``control()``, ``receiver``);
``standin`` is the same object after ``/_test/reset``, with default webhook knobs and an empty receiver.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from standin_support import Receiver, Standin, make_client, receiver_server, start_standin, stop_standin


@pytest.fixture(scope="session")
def stripe_standin() -> Iterator[Standin]:
    receiver = Receiver()
    server = receiver_server(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_port}/webhooks/stripe"
    proc, url = start_standin("--webhook-max-attempts", "4", "--webhook-retry-base-ms", "50", webhook_url=receiver.url)
    try:
        yield Standin(url, make_client(url), receiver, proc)
    finally:
        stop_standin(proc)
        server.shutdown()
        server.server_close()


@pytest.fixture()
def standin(stripe_standin: Standin) -> Standin:
    """The session's stand-in, reset (empty, default knobs, no faults) with an empty receiver."""
    stripe_standin.control("POST", "/_test/webhooks", {"hold": False})
    stripe_standin.wait()  # the last test's deliveries (retries included) are done
    stripe_standin.control("POST", "/_test/reset", {})
    stripe_standin.receiver.clear()
    return stripe_standin


@pytest.fixture()
def billing(app, standin: Standin, monkeypatch):  # type: ignore[no-untyped-def]
    """The session app aimed at the reset stand-in, seeded with the platform's prices."""
    from billing_support import Billing, configure

    from saas.billing import plans

    configure(app, standin, monkeypatch)
    standin.control("POST", "/_test/seed", plans.seed())
    return Billing(app, standin)
