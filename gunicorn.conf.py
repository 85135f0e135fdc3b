"""Gunicorn settings for Crossword Hints; gunicorn reads this file by default.

Every value can be changed through the environment (listed below) or on
the command line, which overrides this file:

    PORT                 port to listen on, on 127.0.0.1 (default 8000)
    GUNICORN_BIND        full bind address instead, e.g. 0.0.0.0:8000 in a
                         container or unix:/run/crossword-hints.sock
    WEB_CONCURRENCY      worker processes (default 2 per CPU plus 1)
    GUNICORN_THREADS     threads per worker (default 1)
    GUNICORN_TIMEOUT     seconds a request may take before its worker is
                         restarted (default 30)
    GUNICORN_ACCESS_LOG  ``-`` for gunicorn's own access log on stdout; off
                         by default because the app logs every request
    GUNICORN_LOG_LEVEL   level of gunicorn's own messages (default info)
"""

import os


def cpu_count() -> int:
    # The CPUs this process may run on, which in a container can be fewer
    # than the machine has.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * cpu_count() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)

timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5

# Building the app once in the master makes a bad setting, such as a
# missing SECRET_KEY in production, stop gunicorn with its one-line message
# instead of making every worker fail and restart. The app opens no
# database connection while it is built, and pre_fork below closes any
# that it did open, so workers share none.
preload_app = True


def pre_fork(server, worker) -> None:
    # A database connection must not be shared across a fork. The master
    # closes any connection its app opened, so each worker opens its own.
    if not server.cfg.preload_app:
        return

    from crossword_hints import db

    db.close_connections()


# The app trusts proxy headers only for PROXY_FIX_X_FOR and
# PROXY_FIX_X_PROTO hops. Gunicorn's own handling, which by default trusts
# X-Forwarded-Proto from 127.0.0.1 and from every unix-socket client, is
# turned off so that there is one place that decides.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""

# The heartbeat file of each worker lives in memory where possible, because
# a slow disk can stall workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# The path without the query string, the request id and the time in
# milliseconds. No user field: gunicorn's %(u)s decodes the Authorization
# header.
access_log_format = '%(h)s %({x-request-id}o)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'

# Gunicorn 25.1 and later open a control socket at one fixed path per user,
# which a second gunicorn on the same machine would take over. The site
# needs no runtime control beyond signals.
control_socket_disable = True
