"""What credits' rows (and the bureau rows its figures read) bump in the cache registry.

A teacher's figures (portal, transcript) read the teacher's ledger and the policy; a school's figures
(principal dashboard) read its teachers, their ledger rows and exemptions, and the policy.
"""

from bureau import versions
from bureau.models import Posting, School, StatusChange, Teacher

from .models import Amendment, Claim, Exemption, HoursSubmission, LedgerEntry, Policy
from .queues import school_queue_version_key
from .selectors import (
    ALL_SCHOOLS,
    ALL_TEACHERS,
    POLICY_VERSION,
    ledger_version_key,
    school_of,
    school_version_key,
    standing_version_key,
    submissions_version_key,
)


def register_all() -> None:
    versions.register(Policy, lambda policy: [POLICY_VERSION])
    versions.register(
        LedgerEntry,
        lambda row: [ledger_version_key(row.teacher_id), school_version_key(school_of(row.teacher_id))],
        coarse=[ALL_TEACHERS, ALL_SCHOOLS],
    )
    versions.register(
        Exemption,
        lambda row: [school_version_key(school_of(row.teacher_id)), standing_version_key(row.teacher_id)],
        coarse=[ALL_SCHOOLS, ALL_TEACHERS],
    )
    versions.register(HoursSubmission, lambda row: [submissions_version_key(row.teacher_id),
                                                    school_queue_version_key(school_of(row.teacher_id))],
                      coarse=[ALL_TEACHERS, ALL_SCHOOLS])
    # the principal's dashboard counts the claims waiting for the school (credits.queues)
    versions.register(Claim, lambda row: [school_queue_version_key(row.school_id)], coarse=[ALL_SCHOOLS])
    # the portal shows a teacher's 补报待审 (CR-9) beside the pending submissions
    versions.register(Amendment, lambda row: [submissions_version_key(row.teacher_id)], coarse=[ALL_TEACHERS])
    versions.register(Teacher, lambda teacher: [school_version_key(teacher.school_id), standing_version_key(teacher.pk)],
                      coarse=[ALL_SCHOOLS, ALL_TEACHERS], track_before=True)
    versions.register(School, lambda school: [school_version_key(school.pk)])
    # CR-7 (amended): a year's figures take the school from the home postings and the status from the
    # recorded changes; a posting or a change alters the figures of the schools it names and the teacher's.
    versions.register(Posting, lambda row: [school_version_key(row.school_id), standing_version_key(row.teacher_id)],
                      coarse=[ALL_SCHOOLS, ALL_TEACHERS])
    versions.register(StatusChange,
                      lambda row: [school_version_key(school_of(row.teacher_id)), standing_version_key(row.teacher_id)],
                      coarse=[ALL_SCHOOLS, ALL_TEACHERS])
