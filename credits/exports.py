"""A teacher's transcript as a workbook (constant memory, injection-safe: bureau.spreadsheets)."""

from __future__ import annotations

from bureau.spreadsheets import SheetSpec, write_workbook

from .models import LedgerEntry, Source

TRANSCRIPT_HEADERS = ["日期", "年度", "来源", "项目编号", "内容", "培训方式", "主题", "学时", "学分", "类型"]


def transcript_rows(teacher_id: int):
    labels = dict(Source.choices)
    rows = (
        LedgerEntry.objects.filter(teacher_id=teacher_id)
        .order_by("entry_date", "id")
        .values_list("entry_date", "source", "project__code", "project__name", "description", "mode", "theme", "hours",
                     "credits", "reverses_id")
    )
    for day, source, code, project_name, description, mode, theme, hours, credits, reverses in rows.iterator(2000):
        yield [
            day,
            day.year,
            labels.get(source, source),
            code or "",
            description or project_name or "",
            mode,
            theme,
            float(hours),
            float(credits),
            "冲销" if reverses else "登记",
        ]


def write_transcript(target, *, teacher) -> None:
    write_workbook(
        target,
        [SheetSpec(f"{teacher.name}学分档案"[:31], TRANSCRIPT_HEADERS, transcript_rows(teacher.pk), date_columns=(0,))],
    )
