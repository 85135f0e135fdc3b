"""Deployment files, gunicorn and what git tracks."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from crossword_hints import create_app, security
from servers import BIN, ROOT, clean_environment, free_port, gunicorn, init_db

OPTIONS_FILE = ROOT / ".ebextensions" / "options.config"
GENERATE_KEY = ROOT / "scripts" / "generate-secret-key"
TEN_MEGABYTES = b"x" * (10 * 1024 * 1024)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


def environment_properties() -> dict[str, str]:
    options = yaml.safe_load(OPTIONS_FILE.read_text(encoding="utf-8"))
    return options["option_settings"]["aws:elasticbeanstalk:application:environment"]


# -- gunicorn ------------------------------------------------------------------


@pytest.mark.slow
def test_gunicorn_serves_site(tmp_path):
    environment = clean_environment(tmp_path, WEB_CONCURRENCY="2")
    init_db(environment)

    with gunicorn(tmp_path, environment) as server:
        front = requests.get(f"{server.url}/", timeout=30)
        login_page = requests.get(f"{server.url}/login", timeout=30)
        stylesheet = requests.get(f"{server.url}/static/site.css", timeout=30)
        too_large = requests.post(
            f"{server.url}/login", data=TEN_MEGABYTES, headers=FORM, timeout=30
        )
        log = server.log()

    assert front.status_code == 200
    assert "Crossword Hints" in front.text
    assert front.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in front.headers["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", front.headers["X-Request-ID"])
    assert login_page.status_code == 200
    assert stylesheet.status_code == 200
    assert too_large.status_code == 413
    assert "Request too large" in too_large.text
    assert f"[{front.headers['X-Request-ID']}] GET / 200" in log
    assert "POST /login 413" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_gunicorn_json_log_hides_secrets(tmp_path):
    environment = clean_environment(
        tmp_path, WEB_CONCURRENCY="1", CROSSWORD_HINTS_LOG_FORMAT="json"
    )
    init_db(environment)

    with gunicorn(tmp_path, environment) as server:
        browser = requests.Session()
        token = csrf_token(browser.get(f"{server.url}/login", timeout=30).text)
        login = browser.post(
            f"{server.url}/login",
            data={"username": "setter", "password": "editor-pass", "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        cookie = browser.cookies["session"]
        search = browser.get(
            f"{server.url}/",
            params={"q": "query-text-not-logged"},
            headers={
                "Authorization": "Bearer authorization-not-logged",
                "X-Request-ID": "trace-from-proxy-1",
            },
            timeout=30,
        )
        log = server.log()

    requests_logged = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"crossword_hints.requestlog"' in line
    ]
    search_line = next(
        line for line in requests_logged if line["request_id"] == "trace-from-proxy-1"
    )

    assert login.status_code == 302
    assert search.status_code == 200
    assert search.headers["X-Request-ID"] == "trace-from-proxy-1"
    assert [line["path"] for line in requests_logged if line["path"] != "/healthz"] == [
        "/login",
        "/login",
        "/",
    ]
    assert search_line["method"] == "GET"
    assert search_line["path"] == "/"
    assert search_line["status"] == 200
    assert search_line["user"] == "setter"
    assert isinstance(search_line["duration_ms"], float)
    assert "editor-pass" not in log
    assert cookie not in log
    assert "query-text-not-logged" not in log
    assert "authorization-not-logged" not in log


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "ChangeMe"}, "SECRET_KEY is still a placeholder"),
    ],
    ids=["missing", "placeholder"],
)
def test_gunicorn_production_without_key_fails(tmp_path, variables, complaint):
    environment = clean_environment(
        tmp_path, CROSSWORD_HINTS_ENV="production", PORT="0", **variables
    )

    result = subprocess.run(
        [str(BIN / "gunicorn"), "application:application"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_application_module_exposes_wsgi(monkeypatch, tmp_path):
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in clean_environment(tmp_path).items():
        monkeypatch.setenv(name, value)

    module = runpy.run_path(str(ROOT / "application.py"))

    assert module["application"].name == "crossword_hints"
    assert callable(module["application"].wsgi_app)


def test_create_app_opens_no_connection(app_config, tmp_path):
    # gunicorn.conf.py preloads the app in the master process; a connection
    # opened there would be shared by every forked worker.
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))

    assert app.extensions["peewee"].is_closed()


@pytest.mark.parametrize(
    ("variables", "bind", "workers"),
    [
        ({"PORT": "8123", "WEB_CONCURRENCY": "3"}, "127.0.0.1:8123", 3),
        ({"GUNICORN_BIND": "0.0.0.0:9000"}, "0.0.0.0:9000", None),
        ({}, "127.0.0.1:8000", None),
    ],
    ids=["port", "bind", "defaults"],
)
def test_gunicorn_config_reads_environment(monkeypatch, variables, bind, workers):
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    assert config["bind"] == bind
    assert config["workers"] == (workers or 2 * config["cpu_count"]() + 1)
    assert config["threads"] == 1
    assert config["timeout"] == 30
    assert config["preload_app"] is True
    assert config["forwarded_allow_ips"] == ""
    assert config["secure_scheme_headers"] == {}


def test_gunicorn_access_log_omits_query():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    log_format = config["access_log_format"]

    assert "%(U)s" in log_format
    assert "{x-request-id}o" in log_format
    for secret_field in ("%(r)s", "%(q)s", "%(u)s", "{cookie}i", "{authorization}i"):
        assert secret_field not in log_format


# -- Elastic Beanstalk ---------------------------------------------------------


def test_procfile_runs_gunicorn():
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()

    assert lines == ["web: gunicorn -c gunicorn.conf.py application:application"]


def test_options_config_sets_production():
    options = yaml.safe_load(OPTIONS_FILE.read_text(encoding="utf-8"))
    properties = environment_properties()
    python = options["option_settings"]["aws:elasticbeanstalk:container:python"]

    assert properties["CROSSWORD_HINTS_ENV"] == "production"
    assert python["WSGIPath"] == "application:application"
    assert all(isinstance(value, str) for value in properties.values())


def test_options_config_key_is_placeholder():
    key = environment_properties()["SECRET_KEY"]

    assert key == "ChangeMe"
    with pytest.raises(security.ConfigurationError):
        security.check_production_key(key)


def run_generate_key(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GENERATE_KEY), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_generate_key_replaces_placeholder(tmp_path):
    copy = tmp_path / "options.config"
    shutil.copy(OPTIONS_FILE, copy)

    result = run_generate_key(str(copy))
    original = OPTIONS_FILE.read_text(encoding="utf-8").splitlines()
    changed = copy.read_text(encoding="utf-8").splitlines()
    differing = [
        (before, after)
        for before, after in zip(original, changed, strict=True)
        if before != after
    ]
    key = yaml.safe_load(copy.read_text(encoding="utf-8"))["option_settings"][
        "aws:elasticbeanstalk:application:environment"
    ]["SECRET_KEY"]

    assert result.returncode == 0, result.stderr
    assert len(changed) == len(original)
    assert len(differing) == 1
    assert differing[0][0].strip() == "SECRET_KEY: ChangeMe"
    assert key not in result.stdout
    assert len(key) >= security.MIN_KEY_BYTES
    security.check_production_key(key)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600


def test_generate_key_keeps_existing_key(tmp_path):
    copy = tmp_path / "options.config"
    shutil.copy(OPTIONS_FILE, copy)
    run_generate_key(str(copy))
    first = copy.read_text(encoding="utf-8")

    again = run_generate_key(str(copy))
    kept = copy.read_text(encoding="utf-8")
    forced = run_generate_key("--force", str(copy))
    replaced = copy.read_text(encoding="utf-8")

    assert again.returncode == 0
    assert "kept it" in again.stdout
    assert kept == first
    assert forced.returncode == 0
    assert replaced != first


def test_generate_key_needs_key_line(tmp_path):
    copy = tmp_path / "options.config"
    copy.write_text(
        "option_settings:\n  aws:elasticbeanstalk:application:environment:\n"
    )

    result = run_generate_key(str(copy))

    assert result.returncode == 1
    assert "exactly one 'SECRET_KEY:' line" in result.stderr


def test_generate_key_is_executable():
    assert os.access(GENERATE_KEY, os.X_OK)


# -- What git tracks -----------------------------------------------------------


def git(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def in_git_checkout() -> bool:
    return shutil.which("git") is not None and git("rev-parse").returncode == 0


@pytest.mark.skipif(not in_git_checkout(), reason="not a git checkout")
def test_no_secret_or_local_file_tracked():
    tracked = git("ls-files").stdout.splitlines()
    suspicious = [
        path
        for path in tracked
        if path.startswith("instance/")
        or path.endswith((".db", ".sqlite3", ".db-wal", ".db-shm", ".env", ".pem"))
        or Path(path).name == "secret_key"
    ]

    assert tracked
    assert suspicious == []


@pytest.mark.skipif(not in_git_checkout(), reason="not a git checkout")
@pytest.mark.parametrize(
    "path",
    [
        "instance/secret_key",
        "instance/crossword_hints.db",
        "instance/config.py",
        "local.db",
        "local.db-wal",
        "elsewhere/secret_key",
    ],
)
def test_local_files_ignored_by_git(path):
    assert git("check-ignore", "--no-index", "--quiet", path).returncode == 0


# -- Local services ------------------------------------------------------------


@pytest.mark.slow
def test_start_services_starts_stopped_redis():
    # A Redis of its own on a free port stands in for a stopped server, so
    # the shared one on 6379 keeps running for other tests.
    port = str(free_port())
    environment = {**os.environ, "REDIS_PORT": port}

    try:
        first = subprocess.run(
            ["sh", str(ROOT / "scripts" / "start-services.sh")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        ping = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", port, "ping"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        second = subprocess.run(
            ["sh", str(ROOT / "scripts" / "start-services.sh")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", port, "shutdown", "nosave"],
            capture_output=True,
            timeout=30,
        )

    assert first.returncode == 0, first.stderr
    assert f"Starting Redis on port {port}" in first.stdout
    assert ping.stdout.strip() == "PONG"
    assert second.returncode == 0, second.stderr
    assert "Starting Redis" not in second.stdout
