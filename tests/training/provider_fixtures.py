"""Shared set-up of the provider API tests (test_providers, test_provider_records, test_provider_oauth):
the endpoints, a provider project's fields and a feed record."""

import datetime as dt
from decimal import Decimal as D

URL = "/api/providers/records/"
XAPI = "/api/providers/xapi/statements/"
# A provider project's fields but its organiser (each test names its provider).
PROJECT = {"level": "省培", "mode": "网络研修", "kind": "选修", "theme": "学科教学", "hours": D("20"),
           "start_on": dt.date(2026, 3, 1), "end_on": dt.date(2026, 6, 30), "status": "finished"}
COMMON = {**PROJECT, "organiser": "某网络学院"}


def record(i, teacher, project, grade="合格", on="2026-06-30", hours=None, **more):
    """One record of a feed: `R{i}` for the teacher's result in the project."""
    return {"record_id": f"R{i}", "project_code": project.code, "staff_no": teacher.staff_no, "grade": grade,
            "completed_on": on, **({"certified_hours": str(hours)} if hours is not None else {}), **more}


def post(client, credential, records, url=URL, *, scheme="Api-Key", **extra):
    """A feed posted with an API key (or `scheme="Bearer"` and a token); xAPI bodies go as they are."""
    body = {"records": records} if url == URL else records
    return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"{scheme} {credential}", **extra)
