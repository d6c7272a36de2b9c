"""Issue 18 item 4: a teacher's backbone eligibility is computed for that teacher alone: the queries of
the `/backbone/` page and of `application_apply` do not grow with the city, and the answer is the same
as the city-wide run's."""

import datetime as dt
import itertools
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backbone import services
from backbone.selectors import FEW_TEACHERS, non_compliant_by_year
from credits.posting import Posting, ledger_sync
from tests.factories import SchoolFactory, TeacherFactory

_keys = itertools.count(1)


def grow_city(n: int, district) -> None:
    school = SchoolFactory(district=district)
    for _ in range(n):
        teacher = TeacherFactory(school=school)
        ledger_sync(source_key=f"scale:{next(_keys)}", actor=None, reason="测试", wanted=Posting(
            teacher_id=teacher.pk, entry_date=dt.date(2025, 5, 1), hours=D(10), credits=D(10), source="training_result"))


def counted(fn) -> int:
    """The queries `fn` runs; every read of the ledger among them is narrowed to one teacher (a city-wide
    run would read every teacher's rows: the count alone would not show it)."""
    with CaptureQueriesContext(connection) as queries:
        fn()
    ledger_reads = [q["sql"] for q in queries if "credits_ledgerentry" in q["sql"]]
    assert ledger_reads and all("teacher_id = " in sql and "t.id = " in sql for sql in ledger_reads)
    return len(queries)


def test_the_teacher_page_and_the_application_cost_the_same_in_a_bigger_city(client, users):
    district = users["district"].profile.district
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=district,
                                 actor=users["bureau"])
    client.force_login(users["teacher"])
    client.get("/backbone/")  # the first visit fills the signed-in user's cache
    small_page = counted(lambda: client.get("/backbone/"))
    grow_city(40, district)
    client.get("/backbone/")  # new rows bumped the caches: fill them again
    big_page = counted(lambda: client.get("/backbone/"))
    assert big_page == small_page
    from bureau.errors import ApplicationError

    def apply():
        with pytest.raises(ApplicationError):  # the teacher is short in 2025: refused, with the reason
            services.application_apply(round_=round_, actor=users["teacher"])

    big_apply = counted(apply)
    grow_city(40, district)
    assert counted(apply) == big_apply


def test_one_teachers_answer_equals_the_city_wide_one(users, city):
    teachers = city["teachers"]
    ledger_sync(source_key="scale:ok", actor=None, reason="测试", wanted=Posting(
        teacher_id=teachers[1].pk, entry_date=dt.date(2025, 5, 1), hours=D(72), credits=D(72), source="training_result"))
    wide = non_compliant_by_year(2026)
    for teacher in teachers:
        assert non_compliant_by_year(2026, [teacher.pk]) == ({teacher.pk: wide[teacher.pk]} if teacher.pk in wide else {})
    assert wide[teachers[1].pk] == {2024} and wide[teachers[0].pk] == {2024, 2025}
    assert FEW_TEACHERS >= 1
