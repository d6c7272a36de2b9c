"""backbone_candidates workbook: one sheet 候选人, sorted by 学校代码 then 工号."""

from bureau.spreadsheets import About, SheetSpec, write_workbook

CANDIDATE_HEADERS = ["工号", "姓名", "学校代码", "职称", "年龄", "教龄"]


def write_candidates(target, candidates, *, about: About | None = None) -> None:
    rows = ([c.staff_no, c.name, c.school_code, c.title, c.age, c.teaching_years] for c in candidates)
    write_workbook(target, [SheetSpec("候选人", CANDIDATE_HEADERS, rows)], about=about or About("骨干教师候选人"))


# --- backbone roster (SPEC §7 名册, §8 backbone_roster) ---------------------------------------------------

ROSTER_HEADERS = ["证书编号", "工号", "姓名", "学校代码", "区县", "层级", "类别", "任教学科", "认定日期", "有效期至", "状态"]

# The workbook's status words (SPEC §7). An entry still marked active whose expiry date has passed (the
# nightly lapse job has not run yet) is written as expired: the file says what is true on the day.
ROSTER_STATUS_WORDS = {"active": "有效", "revoked": "已撤销", "lapsed": "已过期", "reawarded": "已重新认定"}


def roster_status_word(status: str, expires_on, today) -> str:
    if status == "active" and expires_on <= today:
        return ROSTER_STATUS_WORDS["lapsed"]
    return ROSTER_STATUS_WORDS.get(status, status)


def roster_entries(teachers=None):
    """Every roster entry ever made (one row each, history included), of the given teachers (a queryset,
    the caller's scope) or of everyone; in tier, type, certificate order."""
    from .models import RosterEntry

    entries = RosterEntry.objects.all()
    if teachers is not None:
        entries = entries.filter(teacher__in=teachers)
    return entries.select_related("teacher__school__district").order_by("tier", "type", "certificate_no", "pk")


def roster_rows(entries, today):
    """学校代码 and 区县 are the holder's current school's: the roster is used to find holders now (the
    school at award stays on the entry and in the admin)."""
    for entry in entries.iterator(chunk_size=2000):
        teacher = entry.teacher
        school = teacher.school
        yield [entry.certificate_no, teacher.staff_no, teacher.name, school.code, school.district.name, entry.tier, entry.type, teacher.subject, entry.awarded_on,
               entry.expires_on, roster_status_word(entry.status, entry.expires_on, today)]


def write_roster(target, entries, today, *, progress=None, by=None, scope: str = "") -> None:
    write_workbook(target, [SheetSpec("名册", ROSTER_HEADERS, roster_rows(entries, today))], progress=progress,
                   about=About("骨干教师名册", scope=scope, by=by,
                               notes=(f"状态按 {today:%Y-%m-%d} 计；每次认定一行，含已撤销、已过期和已重新认定的。",)))
