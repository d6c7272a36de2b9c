"""Generate a city of a given size straight into PostgreSQL with COPY (fast, constant memory)."""

from __future__ import annotations

import datetime as dt
import io
import random

STAGES = ["小学"] * 40 + ["初中"] * 20 + ["幼儿园"] * 14 + ["高中"] * 8 + ["九年一贯制"] * 9 + ["完全中学"] * 3 + ["职业学校"] * 4 + ["特殊教育"] * 2
LOCATIONS = ["城区"] * 4 + ["镇区"] * 3 + ["乡村"] * 3
SUBJECTS = ["语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "体育", "音乐", "美术", "道德与法治"]
TITLES = ["未定级", "二级教师", "一级教师", "一级教师", "高级教师"]
THEMES = ["师德", "信息技术", "班主任", "学科教学", "学科教学", "新教师", "管理", "其他"]
MODES = ["集中面授", "网络研修", "混合式", "校本研修"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
GIVEN = "芳娟敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂"


def _copy(cursor, table: str, columns: list[str], rows, chunk: int = 200_000) -> int:
    buffer, count = io.StringIO(), 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
        count += 1
        if count % chunk == 0:
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(sql, buffer)
    return count


def generate(connection, *, teachers: int, schools: int, years: tuple[int, ...], rows_per_year: int, seed: int = 1) -> dict:
    """Empty the domain tables and fill them; returns what was made. The ledger's append-only trigger
    is per row (UPDATE/DELETE), so TRUNCATE still clears it for a new benchmark city."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE credits_ledgerentry, training_result, training_enrolment, bureau_posting, bureau_historicalteacher,"
            " bureau_teacher, bureau_subjectquota, bureau_historicalschool, bureau_school, bureau_cluster, bureau_district,"
            " credits_exemption, bureau_profile, bureau_statuschange RESTART IDENTITY CASCADE"
        )
        raw = c.cursor if hasattr(c, "cursor") else c
        district_count = max(2, schools // 150)
        _copy(raw, "bureau_district", ["id", "code", "name"], ((i, f"D{i:03d}", f"第{i}区") for i in range(1, district_count + 1)))
        _copy(
            raw, "bureau_school",
            ["id", "code", "name", "district_id", "stage", "location", "is_weak", "staffing_quota", "created_at", "updated_at"],
            ((i, f"S{i:05d}", f"第{i}学校", 1 + i % district_count, rng.choice(STAGES), rng.choice(LOCATIONS),
              "t" if rng.random() < 0.1 else "f", 80, now, now) for i in range(1, schools + 1)),
        )

        def teacher_rows():
            for i in range(1, teachers + 1):
                birth = dt.date(1966, 1, 1) + dt.timedelta(days=rng.randrange(0, 36 * 365))
                employed = birth + dt.timedelta(days=rng.randrange(21 * 365, 25 * 365))
                employed = min(employed, dt.date(2026, 6, 1))
                joined = employed + dt.timedelta(days=rng.randrange(0, max(1, (dt.date(2026, 6, 1) - employed).days)))
                yield (i, f"T{i:07d}", rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                       "男" if rng.random() < 0.3 else "女", birth, None, 1 + i % schools, rng.choice(SUBJECTS),
                       rng.choice(TITLES), "本科", employed, joined, "在编", "在职" if rng.random() > 0.02 else "退休",
                       "f", "f", "f", "", "", now, now)

        _copy(
            raw, "bureau_teacher",
            ["id", "staff_no", "name", "gender", "birth_date", "id_number", "school_id", "subject", "title", "education",
             "employed_on", "joined_school_on", "employment_type", "status", "is_class_teacher", "is_non_teaching",
             "cannot_teach", "qualification_cert_no", "pending_id_number", "created_at", "updated_at"],
            teacher_rows(),
        )

        # History for CR-7 (amended): every teacher's open home post; a teacher who joined the school after
        # first employment held a home post elsewhere until the day before (so some posts closed during the
        # ledger's years), and the retired ones have their retirement recorded with a date.
        rng_history = random.Random(seed + 1)
        history = {"postings": 0, "changes": 0}

        def posting_rows():
            with connection.cursor() as read:
                read.execute("SELECT id, school_id, employed_on, joined_school_on FROM bureau_teacher ORDER BY id")
                for teacher_id, school_id, employed, joined in read.fetchall():
                    yield (teacher_id, school_id, "regular", joined, None, "", now)
                    if joined > employed and rng_history.random() < 0.5:
                        other = 1 + (school_id + rng_history.randrange(1, schools)) % schools
                        yield (teacher_id, other, "regular", employed, joined - dt.timedelta(days=1), "", now)

        history["postings"] = _copy(raw, "bureau_posting",
                                    ["teacher_id", "school_id", "kind", "started_on", "ended_on", "note", "created_at"],
                                    posting_rows())

        def change_rows():
            with connection.cursor() as read:
                read.execute("SELECT id FROM bureau_teacher WHERE status = '退休' ORDER BY id")
                for (teacher_id,) in read.fetchall():
                    day = dt.date(2021, 1, 1) + dt.timedelta(days=rng_history.randrange(0, 2000))
                    yield (teacher_id, day, "在职", "退休", "", now)

        history["changes"] = _copy(raw, "bureau_statuschange",
                                   ["teacher_id", "effective_on", "from_status", "to_status", "note", "created_at"],
                                   change_rows())

        def ledger_rows():
            for teacher_id in range(1, teachers + 1):
                for year in years:
                    for _ in range(rows_per_year):
                        hours = rng.choice((2, 4, 4, 6, 8))
                        yield (teacher_id, dt.date(year, rng.randint(1, 12), rng.randint(1, 28)), hours, hours,
                               "training_result", rng.choice(MODES), rng.choice(THEMES), "", "", 1, "", now)

        ledger = _copy(
            raw, "credits_ledgerentry",
            ["teacher_id", "entry_date", "hours", "credits", "source", "mode", "theme", "project_code", "source_key", "revision",
             "description", "created_at"],
            ledger_rows(),
        )
        for table in ("bureau_district", "bureau_school", "bureau_teacher"):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        # The ledger vacuumed now (visibility map, hint bits), else autovacuum does it after the COPY, in
        # the middle of the first measurements (seen: PERF-5 at 50,000 teachers three times slower).
        c.execute("VACUUM (ANALYZE) credits_ledgerentry")
        c.execute("ANALYZE")
    return {"teachers": teachers, "schools": schools, "ledger": ledger, **history}
