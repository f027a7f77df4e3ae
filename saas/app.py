"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ProductionConfig, config_from_env
from saas import reference
from saas.account.views import bp as account_bp
from saas.api.views import bp as api_bp
from saas.assessments.views import bp as assessments_bp
from saas.auth.sessions import load_request_user
from saas.auth.views import bp as auth_bp
from saas.benchmarking.views import bp as benchmarking_bp
from saas.billing.views import bp as billing_bp
from saas.billing.views import bureau_bp as billing_bureau_bp
from saas.bureau import assessment_views, dashboard_views  # noqa: F401 - more bureau routes
from saas.bureau.views import bp as bureau_bp
from saas.core import pagecache
from saas.core.errors import register_error_handlers
from saas.core.extensions import babel, csrf, db, limiter
from saas.core.links import refuse_untrusted_host
from saas.core.querystring import RawQueryString
from saas.core.ratelimit import choose_storage_uri
from saas.core.security import register_security_headers
from saas.inquiries.views import bp as inquiries_bp
from saas.marketplace import (
    bulk_views,  # noqa: F401 - bulk import/export routes on the supplier blueprint
    moderation_views,  # noqa: F401 - more bureau routes
)
from saas.marketplace.public_views import bp as market_bp
from saas.marketplace.supplier_views import bp as products_bp
from saas.orgs.views import bp as orgs_bp
from saas.programme.views import bp as programme_bp
from saas.public.views import bp as public_bp
from saas.rfqs.views import bp as rfqs_bp
from saas.sourcing.views import bp as sourcing_bp
from saas.tools.cli import register_cli
from saas.web.filters import register_filters
from saas.web.forms import refuse_control_characters_in_query


def create_app(config_class: type[Config] | None = None, **overrides: object) -> Flask:
    """Create and configure an instance of the application."""
    config_class = config_class or config_from_env()
    app = Flask("saas", template_folder="../templates", static_folder="static")  # the package root, its name
    app.config.from_object(config_class)
    if issubclass(config_class, ProductionConfig):
        app.config.update(config_class.from_environment())
    app.config.update(overrides)
    app.wsgi_app = RawQueryString(app.wsgi_app)  # type: ignore[method-assign]  # raw UTF-8 in ?q=真丝
    proxies = int(app.config.get("TRUST_PROXY") or 0)
    if proxies:
        # The client address and scheme from the last ``proxies`` forwarded entries (the ones our proxies wrote); the
        # host stays the Host header, checked against TRUSTED_HOSTS, and links never use it (saas/core/links.py).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_cli(app)
    pagecache.init_app(app)  # its hook runs before every other before_request hook but the two guards below
    # First of all, even before a cached page: refuse an untrusted Host and a query with control characters.
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[0:0] = [refuse_untrusted_host, refuse_control_characters_in_query]
    return app


def select_locale() -> str:
    """Pick the interface language: the session choice, then the user's preference, then Chinese."""

    choice = session.get("lang") or (g.user.locale if g.get("user") is not None else None)
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    """Bind the unbound extension instances to ``app``."""

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.config["RATELIMIT_STORAGE_URI"] = choose_storage_uri(app)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Register one blueprint per feature package."""

    for bp in (
        public_bp,
        auth_bp,
        account_bp,
        orgs_bp,
        assessments_bp,
        benchmarking_bp,
        products_bp,
        market_bp,
        inquiries_bp,
        rfqs_bp,
        sourcing_bp,
        api_bp,
        bureau_bp,
        programme_bp,
        billing_bp,
        billing_bureau_bp,
    ):
        app.register_blueprint(bp)


def register_request_hooks(app: Flask) -> None:
    """Resolve the user and the tenant before each request; add security headers after."""

    app.before_request(load_request_user)
    register_security_headers(app)

    @app.after_request
    def _vary(response):  # type: ignore[no-untyped-def]
        response.vary.add("Cookie")
        return response


def register_template_helpers(app: Flask) -> None:
    """Expose reference labels and localised formatters to templates."""

    register_filters(app)

    @app.context_processor
    def _globals() -> dict[str, object]:

        return {
            "INDUSTRIES": reference.INDUSTRIES,
            "COUNTIES": reference.COUNTIES,
            "SIZE_CLASSES": reference.SIZE_CLASSES,
            "CERTIFICATIONS": reference.CERTIFICATIONS,
            "ROLE_LABELS": reference.FIRM_ROLE_LABELS,
            "LANGUAGES": app.config["LANGUAGES"],
            "current_locale": "zh_CN" if get_locale().language == "zh" else "en",
            "csp_nonce": g.get("csp_nonce", ""),
        }
