"""What training's rows bump in the cache registry: a school's figures count its teachers' enrolments
(participation) and results (pass rate)."""

from bureau import versions
from credits.selectors import ALL_SCHOOLS, school_of, school_version_key

from .models import Enrolment, Result


def _school_of_result(result) -> str | None:
    teacher_id = Enrolment.objects.filter(pk=result.enrolment_id).values_list("teacher_id", flat=True).first()
    return school_version_key(school_of(teacher_id))


def register_all() -> None:
    versions.register(Enrolment, lambda enrolment: [school_version_key(school_of(enrolment.teacher_id))],
                      coarse=[ALL_SCHOOLS])
    versions.register(Result, lambda result: [_school_of_result(result)], coarse=[ALL_SCHOOLS])
