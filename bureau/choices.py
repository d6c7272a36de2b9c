"""Closed vocabularies of SPEC §2–§4, shared by every app. Values are the Chinese terms users type in the
spreadsheets. The orders that pure rules need (titles, education, passing grades) are plain tuples in
bureau/vocabulary.py; tests/bureau/test_vocabulary.py keeps the two in step."""

from django.db import models


class Stage(models.TextChoices):
    KINDERGARTEN = "幼儿园", "幼儿园"
    PRIMARY = "小学", "小学"
    JUNIOR = "初中", "初中"
    SENIOR = "高中", "高中"
    NINE_YEAR = "九年一贯制", "九年一贯制"
    COMPLETE_SECONDARY = "完全中学", "完全中学"
    SPECIAL = "特殊教育", "特殊教育"
    VOCATIONAL = "职业学校", "职业学校"


class Location(models.TextChoices):
    URBAN = "城区", "城区"
    TOWN = "镇区", "镇区"
    RURAL = "乡村", "乡村"


class Gender(models.TextChoices):
    MALE = "男", "男"
    FEMALE = "女", "女"


class Title(models.TextChoices):
    """职称, in ascending order: the order of the members is the order of the titles."""

    UNRANKED = "未定级", "未定级"
    THIRD = "三级教师", "三级教师"
    SECOND = "二级教师", "二级教师"
    FIRST = "一级教师", "一级教师"
    SENIOR = "高级教师", "高级教师"
    PROFESSOR = "正高级教师", "正高级教师"


class Education(models.TextChoices):
    """学历, in ascending order."""

    HIGH_SCHOOL = "高中及以下", "高中及以下"
    SECONDARY_VOCATIONAL = "中专", "中专"
    JUNIOR_COLLEGE = "大专", "大专"
    BACHELOR = "本科", "本科"
    MASTER = "硕士研究生", "硕士研究生"
    DOCTOR = "博士研究生", "博士研究生"


class EmploymentType(models.TextChoices):
    ESTABLISHED = "在编", "在编"
    SPECIAL_POST = "特岗", "特岗"
    CONTRACT = "编外", "编外"


class Status(models.TextChoices):
    ACTIVE = "在职", "在职"
    RETIRED = "退休", "退休"
    TRANSFERRED_OUT = "调出", "调出"
    LEFT = "离职", "离职"


class PostingKind(models.TextChoices):
    REGULAR = "regular", "正常任职"
    EXCHANGE = "exchange", "交流轮岗"
    RURAL_SUPPORT = "rural_support", "支教"
    PARTNERSHIP = "partnership", "协作"


class Role(models.TextChoices):
    BUREAU = "bureau", "市教育局"
    DISTRICT = "district", "区县教育局"
    PRINCIPAL = "principal", "校长"
    TEACHER = "teacher", "教师"
    AUDITOR = "auditor", "审计/督导"


class Mode(models.TextChoices):
    """培训方式 of a project, a claim or a ledger row."""

    FACE_TO_FACE = "集中面授", "集中面授"
    ONLINE = "网络研修", "网络研修"
    BLENDED = "混合式", "混合式"
    SCHOOL_BASED = "校本研修", "校本研修"


class Theme(models.TextChoices):
    """主题 of training (师德 counts towards the ethics minimum, CR-5)."""

    ETHICS = "师德", "师德"
    IT = "信息技术", "信息技术"
    CLASS_TEACHER = "班主任", "班主任"
    SUBJECT = "学科教学", "学科教学"
    NEW_TEACHER = "新教师", "新教师"
    MANAGEMENT = "管理", "管理"
    OTHER = "其他", "其他"


class Grade(models.TextChoices):
    """考核结果 of a training result; the passing ones are vocabulary.PASSING_GRADES (CR-1)."""

    EXCELLENT = "优秀", "优秀"
    PASS = "合格", "合格"
    FAIL = "不合格", "不合格"
    INCOMPLETE = "未完成", "未完成"


def rank(choices, value) -> int:
    """Position of `value` in an ordered vocabulary (Title, Education): for 'X or above' checks."""
    return list(choices.values).index(value)
