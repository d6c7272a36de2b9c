"""SEC-3: an ID-card number in a URL never reaches a log, whether runserver (django.server) or gunicorn
(access log) writes the request line; and the teacher admin does not search by one (it would be in the URL)."""

import io
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
ID = "110101199003071234"
ID_X = "11010119900307123X"
QUERY = f"/healthz?q={ID}&other={ID_X.lower()}"
UNMASKED = re.compile(r"\d{17}[\dXx]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runserver_request_lines_are_masked(transactional_db):
    """The dev server's own request handler, logging through the `django.server` handler LOGGING configures."""
    handler = next(h for h in logging.getLogger("django.server").handlers if h.get_name() == "django.server")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())  # not get_wsgi_application(): it would set up logging anew
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{QUERY}"
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Referer": f"/?q={ID}"})) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
        handler.setStream(previous)
    written = stream.getvalue()
    assert "GET /healthz?q=" in written  # the line was written, through this handler
    assert not UNMASKED.search(written), written


def test_gunicorn_access_log_is_masked(db, tmp_path):
    """gunicorn as bench/run.py starts it (production settings, gunicorn.conf.py), with an access log."""
    settings = connection.settings_dict
    db_url = (f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
              f"{settings['PORT'] or 5432}/{settings['NAME']}")
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "gunicorn-test-only-secret-key-0123456789-abcdefghijklmnop", "SECURE_SSL_REDIRECT": "false",
           "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "false", "WEB_CONCURRENCY": "1",
           "REDIS_CACHE_URL": os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/13")}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--error-logfile", str(errors)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{QUERY}", headers={"Referer": f"/?q={ID}"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, errors.read_text()
                time.sleep(0.3)
        while "healthz" not in (access.read_text() if access.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = access.read_text()
    assert "GET /healthz?q=" in written
    assert not UNMASKED.search(written), written
    assert not UNMASKED.search(errors.read_text())


@pytest.mark.parametrize("term", [ID, ID_X, ID_X.lower(), f"张 {ID}"])
def test_teacher_admin_does_not_search_by_an_id_number(client, users, term):
    client.force_login(users["superuser"])
    response = client.get("/admin/bureau/teacher/", {"q": term, "status": "在职"})
    assert response.status_code == 302
    assert not UNMASKED.search(response["Location"]) and "status=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "身份证号不能作为网址中的搜索条件" in page and "按身份证号查找" in page


def test_teacher_admin_still_searches_by_staff_number_and_name(client, users):
    client.force_login(users["superuser"])
    response = client.get("/admin/bureau/teacher/", {"q": "T1"})
    assert response.status_code == 200 and "张一" in response.content.decode()
