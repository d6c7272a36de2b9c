"""The yearly exchange plan (EX-8) and its proposals (EX-5)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bureau.models import School, Teacher, WorkflowEvent
from bureau.text import SingleLineTextField

from .rules import ExchangeRules

_DEFAULTS = ExchangeRules()


class PlanStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class ExchangePlan(models.Model):
    """The exchange plan of a year; copies the EX-1/EX-3 figures so that later edits are deliberate."""

    year = models.PositiveIntegerField("年度", unique=True)
    status = models.CharField("状态", max_length=8, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    male_age_limit = models.PositiveSmallIntegerField("男教师年龄上限（周岁）", default=_DEFAULTS.male_age_limit)
    female_age_limit = models.PositiveSmallIntegerField("女教师年龄上限（周岁）", default=_DEFAULTS.female_age_limit)
    tenure_years = models.PositiveSmallIntegerField("本校任职年限", default=_DEFAULTS.tenure_years)
    min_share = models.DecimalField("最低交流比例", max_digits=4, decimal_places=3, default=_DEFAULTS.min_share)
    # EX-1/EX-2 as amended (issue 15). Plans opened before keep the first reading, so the figures they were
    # planned on do not change under them (the migration sets False on those); new plans read as amended.
    amended_rules = models.BooleanField(
        "按修订后的规则测算", default=_DEFAULTS.amended,
        help_text="修订后：年龄上限含本数；自上次交流结束起满6年方再列入，交流期间不列入；仅超编学校列出学科富余教师。"
                  "修订前发起的计划沿用原规则（年龄上限不含本数）。",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField("发起时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "交流轮岗计划"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(min_share__gt=0, min_share__lte=1), name="plan_share_between_0_and_1")
        ]

    def __str__(self):
        return f"{self.year} 年度交流轮岗计划"

    def rules(self) -> ExchangeRules:
        return ExchangeRules(
            male_age_limit=self.male_age_limit,
            female_age_limit=self.female_age_limit,
            tenure_years=self.tenure_years,
            min_share=Decimal(self.min_share),
            amended=self.amended_rules,
        )


class Form(models.TextChoices):
    """EX-5: exchange forms."""

    CLUSTER = "cluster", "片区内交流"
    RURAL_SUPPORT = "rural_support", "支教"
    POSITION_COMPETITION = "position_competition", "竞聘交流"
    PARTNERSHIP = "partnership", "结对协作"
    INDIVIDUAL = "individual", "个人申请"


class ProposalStatus(models.TextChoices):
    APPLIED = "applied", "教师申请"
    PROPOSED = "proposed", "学校推荐"
    APPROVED = "approved", "已批准"
    RETURNED = "returned", "已退回"
    PLACED = "placed", "已派出"
    WITHDRAWN = "withdrawn", "已撤回"


# The state as the teacher reads it on their own page: who has it now, in their words.
TEACHER_PROPOSAL_STATUS = {
    ProposalStatus.APPLIED: "已申请，等待学校推荐",
    ProposalStatus.PROPOSED: "学校已推荐，等待教育局审批",
    ProposalStatus.APPROVED: "已批准，等待派出",
    ProposalStatus.RETURNED: "已退回",
    ProposalStatus.PLACED: "已派出",
    ProposalStatus.WITHDRAWN: "已撤回",
}

ACTIVE_PROPOSAL = [ProposalStatus.APPLIED, ProposalStatus.PROPOSED, ProposalStatus.APPROVED, ProposalStatus.PLACED]


class Proposal(models.Model):
    plan = models.ForeignKey(ExchangePlan, verbose_name="计划", on_delete=models.PROTECT, related_name="proposals")
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="exchange_proposals")
    home_school = models.ForeignKey(School, verbose_name="派出学校", on_delete=models.PROTECT, related_name="+")
    receiving_school = models.ForeignKey(
        School, verbose_name="接收学校", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    form = models.CharField("交流形式", max_length=24, choices=Form.choices)
    status = models.CharField("状态", max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    note = SingleLineTextField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("提出时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "交流人选"
        ordering = ["plan", "home_school", "teacher"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "teacher"], condition=Q(status__in=ACTIVE_PROPOSAL), name="proposal_once_per_plan"
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="proposal_ends_after_start"),
            models.CheckConstraint(
                condition=Q(receiving_school__isnull=True) | ~Q(receiving_school=F("home_school")),
                name="proposal_receiving_differs",
            ),
        ]

    def __str__(self):
        return f"{self.plan.year} {self.teacher} → {self.receiving_school or '待定'}"

    def teacher_status(self) -> str:
        return TEACHER_PROPOSAL_STATUS.get(self.status, self.get_status_display())


class ProposalEvent(WorkflowEvent):
    """Every step of a proposal, with who took it and when (EX-8)."""

    proposal = models.ForeignKey(Proposal, verbose_name="交流人选", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=ProposalStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=ProposalStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "交流审批记录"
