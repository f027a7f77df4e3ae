"""Unbound extension instances; ``create_app`` binds them to an app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf import CSRFProtect

from saas.core.db import Database
from saas.core.ratelimit import rate_limit_key

db = Database()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=rate_limit_key, default_limits=[], headers_enabled=True)
