"""The whole OpenAPI schema, fuzzed by schemathesis (SEC-6): for a bureau user and a teacher, every
operation is called with generated valid and invalid input, and every answer must pass schemathesis'
checks (no server error, status code and body as the schema says, invalid input refused...).

The schema is loaded from the WSGI app like any client would (signed in: /api/schema/ needs a login).
Hypothesis runs derandomized with a bounded number of examples per operation and mode, so the run is
the same every time and takes well under a minute. The database is the test's own transaction, rolled
back at the end, so POST /api/enrolments/ really writes and nothing is left behind.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal as D

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from credits.models import LedgerEntry
from training.models import Project
from training.services import result_record

pytestmark = pytest.mark.fuzz

# Per operation and generation mode (valid, invalid input); FUZZ_EXAMPLES=200 for a longer run by hand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CSRF = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters: a valid CSRF secret, sent as cookie and header


def session_auth(session_key: str) -> type:
    """Schemathesis auth provider: the signed-in session cookie plus the CSRF cookie and header that
    SessionAuthentication wants for POST. Schemathesis knows it as the schema's `cookieAuth`, so its
    ignored-auth check can also send the same request without it and expect a refusal."""

    class SessionAuth:
        def get(self, case, context):
            return session_key

        def set(self, case, data, context):
            case.cookies = {**(case.cookies or {}), django_settings.SESSION_COOKIE_NAME: data,
                            django_settings.CSRF_COOKIE_NAME: CSRF}
            case.headers = {**(case.headers or {}), "X-CSRFToken": CSRF}

    return SessionAuth


def schema_reader(app, session_key: str):
    """The WSGI app as a signed-in browser reaches it, to read /api/schema/ (which needs a login): the
    schema loader's test client sends no cookies of its own."""

    def wrapped(environ, start_response):
        environ["HTTP_COOKIE"] = f"{django_settings.SESSION_COOKIE_NAME}={session_key}"
        return app(environ, start_response)

    return wrapped


@pytest.fixture
def connection_kept():
    """Requests through the real WSGI handler close the database connection when they finish; the test's
    transaction lives on that connection, so keep it open, as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def catalogue(city):
    """Something to find: an open project with a result (so enrolments, results and ledger rows exist), a
    draft, and a ledger row from no project (mode, theme and project code empty)."""
    common = {"level": "市培", "mode": "集中面授", "kind": "必修", "theme": "班主任", "hours": 8, "organiser": "市教育局",
              "start_on": dt.date(2026, 12, 1), "end_on": dt.date(2026, 12, 2)}
    projects = [Project.objects.create(code="F1", name="开放项目", status="enrolling", **common),
                Project.objects.create(code="F2", name="草稿项目", status="draft", **common)]
    teacher = city["teachers"][0]
    result_record(project=projects[0], teacher=teacher, grade="合格", completed_on=dt.date(2026, 12, 2),
                  certified_hours=None, actor=None)
    LedgerEntry.objects.create(teacher=teacher, entry_date=dt.date(2026, 5, 1), source="manual_adjustment",
                               source_key="fuzz-1", description="人工调整", hours=D("2"), credits=D("2"))
    return projects


@pytest.mark.parametrize("role", ["bureau", "teacher"])
def test_api_schema_holds_for_every_operation(client, users, catalogue, connection_kept, role):
    client.force_login(users[role])
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", schema_reader(app, session_key))
    schema.app = app  # calls go to the plain app, signed in only through the auth provider
    schema.auth()(session_auth(session_key))
    failures, operations = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            # No shrinking: a failure is reported as found (shrinking through the WSGI app takes minutes).
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode, auth_storage=schema.auth))
            def run(case):
                case.call_and_validate()

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures, report them all
                failures[f"{mode.value} {operation.label}"] = str(exc)[:2000]
    assert operations >= 11
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
