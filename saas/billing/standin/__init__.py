"""A local, stateful stand-in for the parts of Stripe's API that the billing feature uses.

It is its own small Werkzeug WSGI app, run as its own process (``python -m saas.billing.standin``) on 127.0.0.1: the
real ``stripe`` client talks to it through ``StripeClient(key, base_addresses={"api": url})``. It never imports the
app factory, the database or ``stripe``. See docs/stripe-standin.md.
"""

from saas.billing.standin.server import StandinApp, serve
from saas.billing.standin.store import State

__all__ = ["StandinApp", "State", "serve"]
