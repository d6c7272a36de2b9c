"""The reminder before a project starts (issue 15): each approved trainee gets one notice, linking to a
calendar file of the project, exactly once per enrolment however often the job runs.

Once-only is held by a conditional UPDATE (`reminded_at` still empty) in the transaction that writes the
notice: two runs at the same moment race for the row and only the one whose UPDATE matched sends; a
rolled-back send leaves `reminded_at` empty for the next run. The notice key backs it up."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bureau.services import notice_send

from . import rules
from .enrolment_notices import TITLE_MAX
from .models import Enrolment, EnrolmentState


def reminders_send(*, today: dt.date | None = None, days: int | None = None) -> int:
    """Send the due reminders: approved enrolments of projects starting from today to `days` days ahead
    (settings.TRAINING_REMINDER_DAYS). Returns how many were sent by this run."""
    today = today or timezone.localdate()
    days = settings.TRAINING_REMINDER_DAYS if days is None else days
    first, last = rules.reminder_window(today=today, days=days)
    due = (Enrolment.objects.filter(state=EnrolmentState.APPROVED, reminded_at__isnull=True,
                                    project__start_on__gte=first, project__start_on__lte=last,
                                    teacher__user__isnull=False)
           .values_list("pk", flat=True).order_by("pk"))
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = Enrolment.objects.filter(pk=pk, reminded_at__isnull=True,
                                               state=EnrolmentState.APPROVED).update(reminded_at=timezone.now())
            if not claimed:
                continue  # another run got there first, or the enrolment moved on
            enrolment = Enrolment.objects.select_related("project", "teacher__user").get(pk=pk)
            project = enrolment.project
            notice_send(
                recipient=enrolment.teacher.user, key=f"training.enrolment:{pk}:reminder",
                title=f"开班提醒：{project.name} 将于 {project.start_on:%Y-%m-%d} 开始"[:TITLE_MAX],
                body=f"培训时间：{project.start_on:%Y-%m-%d} 至 {project.end_on:%Y-%m-%d}；承办单位：{project.organiser}。"
                     "可下载日历文件加入手机日历。",
                link=reverse("training:enrolment-calendar", args=[pk]),
            )
            sent += 1
    return sent
