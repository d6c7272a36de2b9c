"""PERF-3: bureau.bulkinsert.copy_rows and copy_history write what insert_rows and insert_history write."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bureau.bulkinsert import copy_history, copy_rows, insert_history, insert_rows
from bureau.models import AuditEntry, Posting, Teacher
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

TRACKED = [f.attname for f in Teacher.history.model.tracked_fields]


def teacher_values(school, staff_no, **over):
    values = {"staff_no": staff_no, "name": "周敏", "gender": "女", "birth_date": dt.date(1985, 3, 14),
              "school_id": school.pk, "subject": "数学", "title": "一级教师", "education": "本科",
              "employed_on": dt.date(2007, 9, 1), "joined_school_on": dt.date(2015, 9, 1),
              "employment_type": "在编", "status": "在职", "status_since": dt.date(2026, 11, 23),
              "is_class_teacher": True}
    values.update(over)
    return values


def test_rows_get_ids_defaults_and_the_same_columns_as_insert_rows():
    school = SchoolFactory()
    (old,) = insert_rows(Teacher, [Teacher(**teacher_values(school, "A1"))])
    (new,) = copy_rows(Teacher, [teacher_values(school, "A2")])
    assert new["id"] == Teacher.objects.get(staff_no="A2").pk and new["id"] > old.pk
    stored = Teacher.objects.filter(staff_no__in=["A1", "A2"]).order_by("staff_no").values()
    first, second = ({k: v for k, v in row.items() if k not in ("id", "staff_no", "created_at", "updated_at")}
                     for row in stored)
    assert first == second  # defaults (非教学人员, 证书号 "", user None …) as the instance path gives them
    assert second["pending_id_number"] == "" and second["id_number"] is None and second["user_id"] is None
    assert new.pk == new["id"] and new.school_id == school.pk  # read like an instance by the cache registry


@pytest.mark.parametrize("text", ["a\\b", "tab\there", "line\nbreak", "cr\rhere", "\\N", "", "周敏"])
def test_text_that_copy_would_read_as_syntax_is_stored_as_it_is(text):
    # AuditEntry: a JSON field, nullable foreign keys, free text
    (row,) = copy_rows(AuditEntry, [{"action": "t", "object_type": text, "object_id": text,
                                     "data": {"k": text, "n": [1, None, True]}}])
    entry = AuditEntry.objects.get(pk=row["id"])
    assert (entry.object_type, entry.object_id, entry.data) == (text, text, {"k": text, "n": [1, None, True]})


def test_many_rows_in_chunks_keep_their_order_and_values():
    school = SchoolFactory()
    rows = copy_rows(Teacher, [teacher_values(school, f"B{i:05d}", is_class_teacher=i % 3 == 0,
                                              birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=i % 500))
                               for i in range(21_000)])
    stored = dict(Teacher.objects.values_list("id", "staff_no"))
    assert len(stored) == 21_000 and all(stored[r["id"]] == r["staff_no"] for r in rows)
    assert Teacher.objects.filter(is_class_teacher=True).count() == 7_000
    assert Teacher.objects.get(staff_no="B00501").birth_date == dt.date(1980, 1, 2)


def test_a_column_mixing_flags_and_numbers_is_not_merged():
    # True == 1: the table of distinct values must not turn one into the other
    (row,) = copy_rows(AuditEntry, [{"action": "t", "data": [True, 1]}])
    assert AuditEntry.objects.get(pk=row["id"]).data == [True, 1]
    rows = copy_rows(AuditEntry, [{"action": "t", "object_id": v} for v in [1, True] * 10])
    assert [AuditEntry.objects.get(pk=r["id"]).object_id for r in rows[:2]] == ["1", "t"]


def test_copy_is_counted_as_queries():
    school = SchoolFactory()
    with CaptureQueriesContext(connection) as queries:
        copy_rows(Teacher, [teacher_values(school, "C1")])
    assert any(q["sql"].startswith("COPY ") for q in queries.captured_queries)


def test_history_rows_are_those_insert_history_writes(django_user_model):
    user = django_user_model.objects.create(username="staff")
    school = SchoolFactory()
    (old,) = insert_rows(Teacher, [Teacher(**teacher_values(school, "D1"))])
    insert_history(Teacher, [old], user=user)
    (new,) = copy_rows(Teacher, [teacher_values(school, "D2")])
    copy_history(Teacher, [new], user=user)
    first, second = (Teacher.history.filter(staff_no=s).values(*TRACKED, "history_type", "history_user_id",
                                                                 "history_change_reason").get()
                     for s in ("D1", "D2"))
    for row in (first, second):
        for name in ("id", "staff_no", "created_at", "updated_at"):
            row.pop(name)
    assert first == second and second["history_type"] == "+" and second["history_user_id"] == user.pk
    assert Teacher.history.get(staff_no="D2").created_at == Teacher.objects.get(staff_no="D2").created_at


def test_postings_bump_the_cache_keys_of_their_school_and_teacher(monkeypatch):
    from bureau import versions

    bumped = []
    monkeypatch.setattr(versions, "bump", lambda *keys: bumped.extend(keys))
    school = SchoolFactory()
    (teacher,) = copy_rows(Teacher, [teacher_values(school, "E1")])
    copy_rows(Posting, [{"teacher_id": teacher["id"], "school_id": school.pk, "started_on": dt.date(2015, 9, 1)}])
    expected = versions.keys_for(Posting, [Posting(teacher_id=teacher["id"], school_id=school.pk)])
    assert expected and expected <= set(bumped)


def test_a_conflict_raises_djangos_integrity_error():
    # run_import turns django.db.IntegrityError into its Chinese message; COPY must raise that one too
    from django.db import IntegrityError, transaction

    school = SchoolFactory()
    copy_rows(Teacher, [teacher_values(school, "F1")])
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(Teacher, [teacher_values(school, "F1")])


# --- PERF-6: insert_values and new_instance ---------------------------------------------------------


def test_insert_values_writes_what_an_instance_would_hold_and_refuses_cached_models(django_user_model):
    from bureau.bulkinsert import insert_values

    user = django_user_model.objects.create(username="u1")
    AuditEntry.objects.create(action="a.single", actor=user, object_type="x", object_id="1", data={"k": "v"})
    with CaptureQueriesContext(connection) as queries:
        written = insert_values(AuditEntry, ["action", "actor_id", "object_type", "object_id", "data"],
                                [("a.bulk", user.pk, "x", "1", {"k": "v"}), ("a.bulk", None, "x\tt", "2", "text")])
    assert written == 2 and len(queries) == 1 and queries[0]["sql"].startswith("COPY")
    single, bulk = AuditEntry.objects.filter(object_id="1").order_by("action")
    assert (bulk.data, bulk.actor_id, single.data) == ({"k": "v"}, user.pk, {"k": "v"})
    assert bulk.created_at is not None
    assert AuditEntry.objects.get(object_id="2").data == "text"  # a JSON string stays a string, tab kept
    assert AuditEntry.objects.get(object_id="2").object_type == "x\tt"
    with pytest.raises(ValueError, match="cache keys"):
        insert_values(Teacher, ["staff_no"], [("Z1",)])  # Teacher bumps cache keys: insert_rows or copy_rows
    assert insert_values(AuditEntry, ["action"], []) == 0


def test_new_instance_holds_what_the_constructor_gives_and_saves():
    from bureau.bulkinsert import new_instance

    school = SchoolFactory()
    values = teacher_values(school, "N1")
    built, constructed = new_instance(Teacher, **values), Teacher(**values)
    names = [f.attname for f in Teacher._meta.concrete_fields if f.attname not in ("created_at", "updated_at")]
    assert [getattr(built, n) for n in names] == [getattr(constructed, n) for n in names]
    assert built._state.adding and built.pk is None
    (saved,) = insert_rows(Teacher, [built])
    assert Teacher.objects.get(pk=saved.pk).staff_no == "N1" and not saved._state.adding
