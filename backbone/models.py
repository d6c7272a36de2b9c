"""Backbone-teacher rosters (SPEC §6): criteria, roster with history, rounds, assessment, mentoring, plans."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bureau.choices import Education, Title
from bureau.models import District, Teacher, WorkflowEvent
from bureau.text import MultiLineTextField, SingleLineTextField, validate_no_control_characters

from . import rules


class Tier(models.TextChoices):
    COUNTY = "县级", "县级"
    CITY = "市级", "市级"
    PROVINCE = "省级", "省级"


class Type(models.TextChoices):
    BACKBONE = "骨干教师", "骨干教师"
    LEADER = "学科带头人", "学科带头人"
    MASTER = "教学名师", "教学名师"


class Criterion(models.Model):
    """BB-2: criteria per tier and type, editable by bureau staff."""

    tier = models.CharField("层级", max_length=4, choices=Tier.choices)
    type = models.CharField("类别", max_length=8, choices=Type.choices)
    min_title = models.CharField("最低职称", max_length=8, choices=Title.choices, blank=True)
    min_education = models.CharField("最低学历", max_length=8, choices=Education.choices, blank=True)
    max_age = models.PositiveSmallIntegerField("年龄上限（周岁，含）", null=True, blank=True)
    min_teaching_years = models.PositiveSmallIntegerField("最低教龄（年）", null=True, blank=True)
    require_lower_tier = models.BooleanField("须先获得下一层级同类称号", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "评选条件"
        constraints = [models.UniqueConstraint(fields=["tier", "type"], name="criterion_per_tier_type")]
        ordering = ["tier", "type"]

    def __str__(self):
        return f"{self.tier}{self.type}"

    def rule(self) -> rules.Criterion:
        return rules.Criterion(
            min_title=self.min_title or None,
            min_education=self.min_education or None,
            max_age=self.max_age,
            min_teaching_years=self.min_teaching_years,
            require_lower_tier=self.require_lower_tier,
        )


class EthicsVeto(models.Model):
    """师德一票否决 on record."""

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="ethics_vetoes")
    year = models.PositiveIntegerField("年度")
    reason = SingleLineTextField("事由", max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "师德一票否决"


class EntryStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    REVOKED = "revoked", "已撤销"
    LAPSED = "lapsed", "已到期"
    REAWARDED = "reawarded", "已重新认定"


class RosterEntry(models.Model):
    """BB-1: teacher × tier × type with certificate, award date and expiry; never deleted."""

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="backbone_titles")
    tier = models.CharField("层级", max_length=4, choices=Tier.choices)
    type = models.CharField("类别", max_length=8, choices=Type.choices)
    certificate_no = models.CharField("证书编号", max_length=40, unique=True, validators=[validate_no_control_characters])
    awarded_on = models.DateField("认定日期")
    expires_on = models.DateField("有效期至")
    status = models.CharField("状态", max_length=16, choices=EntryStatus.choices, default=EntryStatus.ACTIVE)
    ended_on = models.DateField("提前结束日期", null=True, blank=True,
                                help_text="称号到期后重新认定时，为新称号的认定日期")
    allowance = models.BooleanField("享受津贴", default=True)
    school_at_award = models.ForeignKey("bureau.School", verbose_name="认定时学校", on_delete=models.PROTECT,
                                        related_name="+")
    round = models.ForeignKey("SelectionRound", verbose_name="评选批次", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="entries")
    expiry_notified_on = models.DateField("到期提醒日期", null=True, blank=True)
    certificate = models.OneToOneField("training.Certificate", verbose_name="称号证书", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="backbone_title")

    class Meta:
        verbose_name = verbose_name_plural = "骨干教师名册"
        ordering = ["tier", "type", "teacher"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "tier", "type"], condition=Q(status="active"),
                                    name="roster_one_active_title"),
            models.CheckConstraint(condition=Q(expires_on__gt=F("awarded_on")), name="roster_expires_after_award"),
        ]

    def __str__(self):
        return f"{self.teacher} {self.tier}{self.type}"


class RosterEvent(WorkflowEvent):
    """Every change of a roster entry: awarded, allowance stopped, revoked, lapsed, re-awarded (BB-4, BB-5)."""

    entry = models.ForeignKey(RosterEntry, verbose_name="名册条目", on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=EntryStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=EntryStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "名册变更记录"


class Assessment(models.Model):
    """BB-4: the annual assessment of a roster entry; failing revokes the title and its allowance."""

    entry = models.ForeignKey(RosterEntry, verbose_name="名册条目", on_delete=models.PROTECT, related_name="assessments")
    year = models.PositiveIntegerField("年度")
    passed = models.BooleanField("合格")
    note = SingleLineTextField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "年度考核"
        constraints = [models.UniqueConstraint(fields=["entry", "year"], name="assessment_once_per_year")]


class RoundStatus(models.TextChoices):
    OPEN = "open", "报名中"
    NOTICE = "notice", "公示中"
    REVIEW = "review", "评审中"
    TRAINING = "training", "培养中"
    AWARDED = "awarded", "已认定"


class SelectionRound(models.Model):
    """BB-3: a selection round of one tier and type."""

    year = models.PositiveIntegerField("年度")
    tier = models.CharField("层级", max_length=4, choices=Tier.choices)
    type = models.CharField("类别", max_length=8, choices=Type.choices)
    district = models.ForeignKey(District, verbose_name="组织区县", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="backbone_rounds", help_text="县级评选由该区县组织；空为市教育局组织")
    places = models.PositiveIntegerField("认定名额")
    school_limit = models.PositiveSmallIntegerField("每校推荐名额", default=2)
    status = models.CharField("状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    notice_working_days = models.PositiveSmallIntegerField("公示工作日", default=5)
    notice_starts_on = models.DateField("公示开始", null=True, blank=True)
    notice_ends_on = models.DateField("公示结束", null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    created_at = models.DateTimeField("发起时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "评选批次"
        ordering = ["-year", "tier", "type"]
        constraints = [models.CheckConstraint(condition=Q(district__isnull=True) | Q(tier="县级"),
                                              name="round_district_only_county")]

    def __str__(self):
        return f"{self.year}年{self.tier}{self.type}评选"


class RoundEvent(WorkflowEvent):
    """Every step of a selection round (BB-3): opened, notice, review, selection, award."""

    round = models.ForeignKey(SelectionRound, verbose_name="评选批次", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=RoundStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=RoundStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "评选批次记录"


class RoundQuota(models.Model):
    """Places of a round per district or per subject (BB-3)."""

    round = models.ForeignKey(SelectionRound, verbose_name="评选批次", on_delete=models.CASCADE, related_name="quotas")
    district = models.ForeignKey(District, verbose_name="区县", on_delete=models.PROTECT, null=True, blank=True)
    subject = models.CharField("学科", max_length=32, blank=True, validators=[validate_no_control_characters])
    places = models.PositiveIntegerField("名额")

    class Meta:
        verbose_name = verbose_name_plural = "评选名额分配"
        constraints = [models.CheckConstraint(condition=Q(district__isnull=False) | ~Q(subject=""), name="quota_has_unit")]


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "已申报"
    RECOMMENDED = "recommended", "学校推荐"
    NOT_RECOMMENDED = "not_recommended", "学校未推荐"
    TRAINEE = "trainee", "培养对象"
    NOT_SELECTED = "not_selected", "未入选"
    PASSED = "passed", "培养合格"
    DROPPED = "dropped", "培养淘汰"
    DISQUALIFIED = "disqualified", "异议成立，取消资格"
    AWARDED = "awarded", "已认定"


class Application(models.Model):
    round = models.ForeignKey(SelectionRound, verbose_name="评选批次", on_delete=models.PROTECT, related_name="applications")
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="backbone_applications")
    school = models.ForeignKey("bureau.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.APPLIED)
    score = models.DecimalField("评审得分", max_digits=5, decimal_places=2, null=True, blank=True)
    outcome_note = SingleLineTextField("结果说明", max_length=300, blank=True,
                                       help_text="培养考核或异议处理的结论（淘汰、取消资格的理由）")
    created_at = models.DateTimeField("申报时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "评选申报"
        constraints = [models.UniqueConstraint(fields=["round", "teacher"], name="application_once_per_round")]


class ApplicationEvent(WorkflowEvent):
    """Every step of an application (BB-3); an objection is recorded with the state unchanged."""

    application = models.ForeignKey(Application, verbose_name="申报", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=ApplicationStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=ApplicationStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "评选过程记录"


class ObjectionFinding(models.TextChoices):
    OPEN = "", "待处理"
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"
    MOOT = "moot", "随之办结"


class Objection(models.Model):
    """An objection raised during the public notice (公示异议): from the public notice page (no recorder) or
    recorded by staff. While open it holds its candidate (BB-3 amended); it is closed with a finding."""

    application = models.ForeignKey(Application, verbose_name="申报", on_delete=models.PROTECT, related_name="objections")
    text = MultiLineTextField("异议内容")
    contact = SingleLineTextField("反映人联系方式", max_length=100, blank=True)
    finding = models.CharField("处理结论", max_length=10, choices=ObjectionFinding.choices, blank=True, default="")
    resolution = SingleLineTextField("处理结果", max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+", help_text="空为公众在公示页提交")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "公示异议"
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(finding="") | ~Q(resolution=""),
                                              name="objection_finding_has_resolution")]

    @property
    def is_open(self) -> bool:
        return self.finding == ObjectionFinding.OPEN


class MentoringPair(models.Model):
    """BB-6: 师徒结对; the mentor holds a higher tier or type than the mentee."""

    mentor = models.ForeignKey(Teacher, verbose_name="导师", on_delete=models.PROTECT, related_name="mentees")
    mentee = models.ForeignKey(Teacher, verbose_name="徒弟", on_delete=models.PROTECT, related_name="mentors")
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "师徒结对"
        constraints = [models.CheckConstraint(condition=~Q(mentor=F("mentee")), name="mentoring_two_people")]


class MentoringRecord(models.Model):
    pair = models.ForeignKey(MentoringPair, verbose_name="结对", on_delete=models.CASCADE, related_name="records")
    year = models.PositiveIntegerField("年度")
    summary = MultiLineTextField("年度记录")

    class Meta:
        verbose_name = verbose_name_plural = "结对年度记录"
        constraints = [models.UniqueConstraint(fields=["pair", "year"], name="mentoring_record_once")]


class PlanTarget(models.Model):
    """BB-7: a five-year target per tier and type (e.g. 200 county backbone teachers)."""

    tier = models.CharField("层级", max_length=4, choices=Tier.choices)
    type = models.CharField("类别", max_length=8, choices=Type.choices)
    start_year = models.PositiveIntegerField("起始年")
    end_year = models.PositiveIntegerField("结束年")
    target = models.PositiveIntegerField("目标人数")

    class Meta:
        verbose_name = verbose_name_plural = "五年规划目标"
        constraints = [models.UniqueConstraint(fields=["tier", "type", "start_year"], name="plan_target_once")]
