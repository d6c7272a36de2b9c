"""A realistic demo city for the quick start, the browser tests and trying the imports (seed_demo)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from stdnum.cn import ric

from bureau.choices import Education, EmploymentType, Gender, Location, PostingKind, Role, Stage, Status, Title
from bureau.imports import SchoolImporter, TeacherImporter
from bureau.models import Cluster, District, Posting, School, SubjectQuota, Teacher
from bureau.services import user_assign_role
from bureau.spreadsheets import SheetSpec, write_workbook

DISTRICTS = [
    ("430602", "岳阳楼区", "430602"),
    ("430603", "云溪区", "430603"),
    ("430611", "君山区", "430611"),
    ("430621", "岳阳县", "430621"),
    ("430624", "湘阴县", "430624"),
    ("430681", "汨罗市", "430681"),
]
STAGE_WEIGHTS = [
    (Stage.KINDERGARTEN, 14),
    (Stage.PRIMARY, 40),
    (Stage.JUNIOR, 20),
    (Stage.SENIOR, 8),
    (Stage.NINE_YEAR, 9),
    (Stage.COMPLETE_SECONDARY, 3),
    (Stage.SPECIAL, 2),
    (Stage.VOCATIONAL, 4),
]
STAGE_SUFFIX = {
    Stage.KINDERGARTEN: "幼儿园",
    Stage.PRIMARY: "小学",
    Stage.JUNIOR: "中学",
    Stage.SENIOR: "高级中学",
    Stage.NINE_YEAR: "九年一贯制学校",
    Stage.COMPLETE_SECONDARY: "完全中学",
    Stage.SPECIAL: "特殊教育学校",
    Stage.VOCATIONAL: "职业中专",
}
SUBJECTS = {
    Stage.KINDERGARTEN: ["学前教育"],
    Stage.PRIMARY: ["语文", "数学", "英语", "科学", "音乐", "体育", "美术", "道德与法治", "信息技术"],
    Stage.JUNIOR: ["语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "体育", "音乐", "美术"],
    Stage.SENIOR: ["语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "思想政治", "体育", "信息技术"],
    Stage.SPECIAL: ["特殊教育", "康复训练", "语文", "数学"],
    Stage.VOCATIONAL: ["语文", "数学", "英语", "计算机", "机电", "会计", "旅游服务"],
}
SUBJECTS[Stage.NINE_YEAR] = SUBJECTS[Stage.JUNIOR]
SUBJECTS[Stage.COMPLETE_SECONDARY] = SUBJECTS[Stage.SENIOR]
PLACE_NAMES = "东风 建设 解放 南湖 白沙 金鹗 洞庭 汨江 新墙 荣家湾 黄沙街 长湖 屈原 八景 罗城 归义 新市 弼时 城陵矶 北港 麻塘 月田 三荷 洪山 静河 白羊 东塘 龙湾 梅溪 桃林".split()
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 董 萧 程 曹 袁 邓 许 傅 沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎 余 潘 杜 戴 夏 钟 汪 田 任 姜 范 方 石 姚 谭 廖 邹 熊 金 陆 郝 孔 白 崔 康 毛 邱 秦 江 史 顾 侯 邵 孟 龙 万 段".split()
GIVEN_F = "芳 娟 敏 静 丽 艳 娜 婷 雪 琳 慧 颖 玲 霞 燕 红 梅 莉 萍 倩 佳 欣 悦 思 雨 晨 一 诗 雅 文".split()
GIVEN_M = "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 阳".split()


@dataclass
class DemoResult:
    districts: int
    schools: int
    teachers: int
    logins: list[tuple[str, str, str]]  # (role label, username, password)


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights)[0]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _id_number(rng: random.Random, region: str, birth: dt.date, male: bool) -> str:
    seq = rng.randrange(0, 50) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{rng.randrange(0, 10)}{seq:02d}"[:17]
    # the 17th digit carries the gender parity
    body = body[:16] + str((int(body[16]) // 2) * 2 + (1 if male else 0))
    return body + ric.calc_check_digit(body + "0")


@transaction.atomic
def build_demo_city(*, teachers: int, seed: int, today: dt.date, password: str) -> DemoResult:
    rng = random.Random(seed)
    districts = [District.objects.create(code=code, name=name) for code, name, _ in DISTRICTS]
    regions = {d.pk: region for d, (_, _, region) in zip(districts, DISTRICTS)}
    school_count = max(8, teachers // 45)
    schools: list[School] = []
    per_place: dict[tuple[int, str], int] = {}
    for index in range(school_count):
        district = districts[index % len(districts)]
        stage = _pick(rng, STAGE_WEIGHTS) if index >= 8 else list(Stage)[index]
        location = _pick(rng, [(Location.URBAN, 40), (Location.TOWN, 30), (Location.RURAL, 30)])
        if index < 3:
            location = list(Location)[index]  # every kind of place, also in a tiny demo
        place = rng.choice(PLACE_NAMES)
        n = per_place[(district.pk, place + stage)] = per_place.get((district.pk, place + stage), 0) + 1
        name = f"{district.name}{place}{'第' + '一二三四五六七八九十'[n - 1] if n > 1 else ''}{STAGE_SUFFIX[stage]}"
        schools.append(
            School(
                code=f"{district.code}{index + 1:04d}",
                name=name,
                district=district,
                stage=stage,
                location=location,
                is_weak=location != Location.URBAN and rng.random() < 0.25,
            )
        )
    School.objects.bulk_create(schools)
    for district in districts:
        own = [s for s in schools if s.district_id == district.pk]
        for number, group in enumerate((own[0::2], own[1::2]), start=1):
            if not group:
                continue
            lead = next((s for s in group if s.location == Location.URBAN and not s.is_weak), group[0])
            cluster = Cluster.objects.create(name=f"{district.name}第{number}片区", district=district, lead_school=lead)
            School.objects.filter(pk__in=[s.pk for s in group]).update(cluster=cluster)

    rows: list[Teacher] = []
    used_ids: set[str] = set()
    for index in range(teachers):
        school = schools[index % len(schools)] if index < len(schools) else rng.choice(schools)
        male = rng.random() < (0.1 if school.stage == Stage.KINDERGARTEN else 0.32)
        age = rng.randint(22, 59 if male else 54)
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(0, 365))
        employed = _add_years(birth, rng.randint(21, 24)) + dt.timedelta(days=rng.randrange(0, 60))
        employed = min(employed, today - dt.timedelta(days=30))
        years = (today - employed).days // 365
        joined = employed + dt.timedelta(days=rng.randrange(0, max(1, (today - employed).days)))
        if rng.random() < 0.45:
            joined = employed  # many teachers never moved
        title = [Title.UNRANKED, Title.SECOND, Title.FIRST, Title.SENIOR, Title.PROFESSOR][
            min(4, (years + rng.randint(-2, 2)) // 8)
        ] if years > 1 else Title.UNRANKED
        education = _pick(
            rng,
            [(Education.JUNIOR_COLLEGE, 18 if age > 40 else 6), (Education.BACHELOR, 70), (Education.MASTER, 10 if age < 40 else 3),
             (Education.SECONDARY_VOCATIONAL, 4 if age > 45 else 0), (Education.DOCTOR, 1)],
        )
        status = Status.ACTIVE if rng.random() > 0.02 else rng.choice([Status.TRANSFERRED_OUT, Status.LEFT])
        id_number = _id_number(rng, regions[school.district_id], birth, male)
        while id_number in used_ids:
            id_number = _id_number(rng, regions[school.district_id], birth, male)
        used_ids.add(id_number)
        given = rng.choice(GIVEN_M if male else GIVEN_F) + (rng.choice(GIVEN_M if male else GIVEN_F) if rng.random() < 0.6 else "")
        rows.append(
            Teacher(
                staff_no=f"T{index + 1:06d}",
                name=rng.choice(SURNAMES) + given,
                gender=Gender.MALE if male else Gender.FEMALE,
                birth_date=birth,
                id_number=id_number,
                school=school,
                subject=rng.choice(SUBJECTS[school.stage]),
                title=title,
                education=education,
                employed_on=employed,
                joined_school_on=joined,
                employment_type=_pick(rng, [(EmploymentType.ESTABLISHED, 85), (EmploymentType.SPECIAL_POST, 8), (EmploymentType.CONTRACT, 7)]),
                status=status,
                is_class_teacher=rng.random() < 0.3,
            )
        )
    Teacher.objects.bulk_create(rows, batch_size=2000)
    Posting.objects.bulk_create(
        [
            Posting(teacher=t, school_id=t.school_id, kind=PostingKind.REGULAR, started_on=t.joined_school_on, note="演示数据")
            for t in rows
        ],
        batch_size=2000,
    )
    # Staffing quotas: the total near the head count, a few subjects overstaffed (EX-2) or short (EX-6).
    counts: dict[int, dict[str, int]] = {}
    for t in rows:
        counts.setdefault(t.school_id, {}).setdefault(t.subject, 0)
        counts[t.school_id][t.subject] += 1
    quotas = []
    for school in schools:
        subjects = counts.get(school.pk, {})
        school.staffing_quota = sum(subjects.values()) + rng.randint(-2, 3) if subjects else 0
        school.staffing_quota = max(0, school.staffing_quota)
        for subject, count in subjects.items():
            quotas.append(SubjectQuota(school=school, subject=subject, quota=max(0, count + rng.choice([-1, 0, 0, 1]))))
    School.objects.bulk_update(schools, ["staffing_quota"])
    SubjectQuota.objects.bulk_create(quotas, batch_size=2000)

    logins = _demo_users(districts=districts, schools=schools, teachers=rows, password=password)
    return DemoResult(districts=len(districts), schools=len(schools), teachers=len(rows), logins=logins)


def _demo_users(*, districts, schools, teachers, password) -> list[tuple[str, str, str]]:
    User = get_user_model()
    admin = User.objects.create_superuser("admin", "admin@example.invalid", password, first_name="系统管理员")
    principal_school = next(s for s in schools if s.stage == Stage.PRIMARY)
    teacher = next(t for t in teachers if t.school_id == principal_school.pk and t.status == Status.ACTIVE)
    plan = [
        ("bureau", "市教育局", {"role": Role.BUREAU}),
        ("district", "区县教育局", {"role": Role.DISTRICT, "district": principal_school.district}),
        ("principal", "校长", {"role": Role.PRINCIPAL, "school": principal_school}),
        ("teacher", "教师", {"role": Role.TEACHER, "teacher": teacher}),
        ("auditor", "审计/督导", {"role": Role.AUDITOR}),
    ]
    logins = [("超级管理员", "admin", password)]
    for username, label, kwargs in plan:
        user = User.objects.create_user(username, password=password, first_name=label)
        user_assign_role(user=user, actor=admin, **kwargs)
        logins.append((label, username, password))
    return logins


def export_roster(directory, *, with_id_numbers: bool) -> tuple[str, str]:
    """Write the current roster as schools.xlsx and teachers.xlsx in the SPEC §7 format."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    schools_path, teachers_path = directory / "schools.xlsx", directory / "teachers.xlsx"
    school_rows = (
        [code, name, district, stage, location, "是" if weak else "否", cluster or "", quota]
        for code, name, district, stage, location, weak, cluster, quota in School.objects.order_by("code").values_list(
            "code", "name", "district__name", "stage", "location", "is_weak", "cluster__name", "staffing_quota"
        )
    )
    write_workbook(schools_path, [SheetSpec("学校", [c.header for c in SchoolImporter.columns], school_rows)])
    fields = [
        "staff_no", "name", "gender", "birth_date", "id_number", "school__code", "subject", "title", "education",
        "employed_on", "joined_school_on", "employment_type", "status", "is_class_teacher",
    ]
    teacher_rows = (
        [*values[:4], values[4] if with_id_numbers else None, *values[5:-1], "是" if values[-1] else "否"]
        for values in Teacher.objects.order_by("staff_no").values_list(*fields).iterator(chunk_size=5000)
    )
    write_workbook(
        teachers_path,
        [SheetSpec("教师", [c.header for c in TeacherImporter.columns], teacher_rows, date_columns=(3, 9, 10))],
    )
    return str(schools_path), str(teachers_path)
