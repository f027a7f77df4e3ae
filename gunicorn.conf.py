"""Production serving: ``gunicorn -c gunicorn.conf.py wsgi:app`` (docs/operations.md).

Every setting comes from the environment, with defaults for a 2-core machine behind a reverse proxy. Only
``os.environ`` is read here (never ``config.py``), so the proxy settings agree with the app's without importing it.

* Workers: ``WEB_CONCURRENCY`` sync workers (default 2 × cores + 1, gunicorn's advice: a sync worker waits on the
  database, so one per core would leave the CPU idle). ``GUNICORN_THREADS`` > 1 switches to the ``gthread`` worker
  with that many threads per process (keep-alive connections, e.g. without a buffering proxy in front).
* Warm before traffic: each worker loads the listing index, the catalogue, translations and templates in
  ``post_worker_init``, which gunicorn runs before the worker accepts a connection (``saas.core.serving.warm``). With
  ``GUNICORN_PRELOAD=1`` the app is loaded and warmed once in the master and the workers share its memory (the index
  is 32–35 MB per process at 100,000 listings), but then ``HUP`` no longer reloads code (use ``USR2`` + ``QUIT``).
* After a fork each process drops the database connections it inherited (``saas.core.serving.dispose_after_fork``).
* Graceful restarts: ``HUP`` starts new (warmed) workers and retires the old ones; ``TERM`` lets requests in flight
  finish within ``GUNICORN_GRACEFUL_TIMEOUT``.
* Proxy headers: with ``TRUST_PROXY`` set (the app then reads ``X-Forwarded-For``/``-Proto`` through ProxyFix),
  gunicorn trusts the forwarded headers from ``FORWARDED_ALLOW_IPS`` (default: loopback only, where a local proxy
  runs); without it no forwarded header is trusted at all.
"""

from __future__ import annotations

import multiprocessing
import os


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value.strip() else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _on(name: str) -> bool:
    return _env(name, "0").strip().lower() not in {"0", "false", "no", "off", ""}


bind = _env("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
preload_app = _on("GUNICORN_PRELOAD")

# A request may render a PDF when no report worker runs (about 1-2 s); 30 s is far above any page and still frees a
# stuck worker. Warming happens before the worker's first heartbeat is due again, well inside the timeout.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # gthread only: sync workers close each connection
# Restarting workers after N requests bounds slow leaks; each restart costs a warm-up, so it is off by default.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(1, max_requests // 10) if max_requests else 0)
# The heartbeat file on a memory file system: a busy disk cannot make the master think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Trust forwarded headers only when the app does (TRUST_PROXY), and only from the proxy's addresses.
if _on("TRUST_PROXY"):
    forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
else:
    forwarded_allow_ips = ""

# Logs to stdout/stderr for the service manager; the access line carries the forwarded client address and the time
# taken in microseconds. Query strings are logged; tokens never travel in query strings.
accesslog = _env("GUNICORN_ACCESS_LOG", "-")
errorlog = _env("GUNICORN_ERROR_LOG", "-")
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s"'
if accesslog.lower() in {"off", "none"}:
    accesslog = None
proc_name = "jx-saas"


def _saas_app(wsgi_app: object) -> object | None:
    """This project's app, or None for another WSGI app (the hello-world bench app runs under this file too)."""
    extensions = getattr(wsgi_app, "extensions", None)
    return wsgi_app if isinstance(extensions, dict) and "database" in extensions else None


def when_ready(server) -> None:  # type: ignore[no-untyped-def]
    """With GUNICORN_PRELOAD=1, warm the app once in the master before any worker is forked."""
    if not preload_app:
        return
    app = _saas_app(server.app.wsgi())
    if app is not None:
        from saas.core.serving import warm

        server.log.info("warmed the preloaded app in %.2f s", warm(app))


def post_fork(server, worker) -> None:  # type: ignore[no-untyped-def]
    """A forked worker must not share the master's pooled database connections (preload only: otherwise the app is
    loaded after the fork and holds none)."""
    if preload_app:
        app = _saas_app(server.app.wsgi())
        if app is not None:
            from saas.core.serving import dispose_after_fork

            dispose_after_fork(app)


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Runs in the worker after the app is loaded and before it accepts a connection: warm it there."""
    if preload_app:
        return  # warmed in the master; the index catches up from the change log on the first search
    app = _saas_app(worker.wsgi)
    if app is not None:
        from saas.core.serving import warm

        worker.log.info("worker %s warm in %.2f s", worker.pid, warm(app))
