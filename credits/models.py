"""The credit ledger (append-only) and the yearly policy (SPEC §4)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bureau.choices import Mode, Theme
from bureau.models import Teacher, WorkflowEvent
from bureau.text import MultiLineTextField, SingleLineTextField, validate_no_control_characters
from bureau.versions import VersionedQuerySet

from . import rules


class Source(models.TextChoices):
    TRAINING_RESULT = "training_result", "培训结果"
    SCHOOL_BASED = "school_based", "校本研修"
    SELF_STUDY = "self_study", "自主研修"
    EXTERNAL_CERTIFICATE = "external_certificate", "学时认定"
    MANUAL_ADJUSTMENT = "manual_adjustment", "人工调整"


_DEFAULTS = rules.PolicyValues()


class Policy(models.Model):
    """CR-3: versioned by year. The policy for year Y is the row with the greatest year ≤ Y."""

    year = models.PositiveIntegerField("起始年度", unique=True, help_text="本政策自该年度起适用，直到下一版本")
    annual_credits = models.DecimalField("年度学分要求", max_digits=6, decimal_places=2, default=_DEFAULTS.annual_credits)
    cycle_hours = models.DecimalField("周期学时要求", max_digits=7, decimal_places=2, default=_DEFAULTS.cycle_hours)
    cycle_years = models.PositiveSmallIntegerField("周期年数", default=_DEFAULTS.cycle_years, validators=[MinValueValidator(1)])
    first_cycle_start = models.PositiveIntegerField("首个周期起始年", default=_DEFAULTS.first_cycle_start)
    flag_threshold = models.DecimalField("学校预警比例", max_digits=4, decimal_places=3, default=_DEFAULTS.flag_threshold)
    min_school_based_hours = models.DecimalField(
        "年度校本研修最低学时", max_digits=6, decimal_places=2, default=_DEFAULTS.min_school_based_hours
    )
    min_ethics_hours = models.DecimalField("年度师德最低学时", max_digits=6, decimal_places=2, default=_DEFAULTS.min_ethics_hours)
    credits_per_hour = models.DecimalField("每学时折算学分", max_digits=5, decimal_places=2, default=_DEFAULTS.credits_per_hour)
    target_participation = models.DecimalField(
        "参培率目标", max_digits=4, decimal_places=3, default=_DEFAULTS.target_participation
    )
    target_pass = models.DecimalField("合格率目标", max_digits=4, decimal_places=3, default=_DEFAULTS.target_pass)
    target_compliance = models.DecimalField("学分达标率目标", max_digits=4, decimal_places=3, default=_DEFAULTS.target_compliance)
    claim_max_wait_days = models.PositiveSmallIntegerField("认定申请最长等待天数", default=_DEFAULTS.claim_max_wait_days)
    self_study_cap = models.DecimalField(
        "年度自主研修（师本）学分上限", max_digits=6, decimal_places=2, null=True, blank=True,
        default=_DEFAULTS.self_study_cap, validators=[MinValueValidator(0)],
        help_text="每年最多计入多少自主研修（师本）学分；超出部分保留在学分登记中，但不计入年度学分。留空表示不设上限",
    )
    online_cap = models.DecimalField(
        "年度网络研修学分上限", max_digits=6, decimal_places=2, null=True, blank=True,
        default=_DEFAULTS.online_cap, validators=[MinValueValidator(0)],
        help_text="每年最多计入多少网络研修学分；超出部分保留在学分登记中，但不计入年度学分。留空表示不设上限",
    )
    daily_hours_limit = models.DecimalField(
        "每日申报学时上限", max_digits=4, decimal_places=2, default=_DEFAULTS.daily_hours_limit,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="教师同一天申报的校本研修与自主研修学时合计（待审核与已通过）不能超过此数",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(verbose_name="学分政策变更记录")

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "学分政策"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(flag_threshold__gt=0, flag_threshold__lte=1), name="policy_threshold_between_0_and_1"
            ),
            models.CheckConstraint(
                condition=(Q(self_study_cap__isnull=True) | Q(self_study_cap__gte=0))
                & (Q(online_cap__isnull=True) | Q(online_cap__gte=0)),
                name="policy_caps_not_negative",
            ),
            models.CheckConstraint(condition=Q(daily_hours_limit__gt=0), name="policy_daily_limit_positive"),
        ]

    def __str__(self):
        return f"{self.year} 年起适用的学分政策"

    def values(self) -> rules.PolicyValues:
        return rules.PolicyValues(**{f: getattr(self, f) for f in rules.PolicyValues.__dataclass_fields__})


class LedgerQuerySet(VersionedQuerySet):
    def update(self, **kwargs):
        raise ValidationError("学分登记只能追加：更正请登记冲销行。")

    def delete(self):
        raise ValidationError("学分登记只能追加：不能删除。")


class LedgerEntry(models.Model):
    """学分登记: append-only, also at the database level (a trigger refuses UPDATE and DELETE).

    A correction is a reversal row (`reverses` → the row it cancels, negated figures) plus a new row.
    Rows caused by the same thing share a `source_key` (e.g. ``result:<enrolment id>``) and are numbered
    by `revision`: the unique (source_key, revision) pair is what makes a posting happen exactly once
    even when two workers race (CR-2).
    """

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="ledger")
    entry_date = models.DateField("日期")
    hours = models.DecimalField("学时", max_digits=8, decimal_places=2)
    credits = models.DecimalField("学分", max_digits=8, decimal_places=2)
    source = models.CharField("来源", max_length=24, choices=Source.choices)
    mode = models.CharField("培训方式", max_length=8, choices=Mode.choices, blank=True)
    theme = models.CharField("主题", max_length=8, choices=Theme.choices, blank=True)
    # The project's code, not a key to it: the ledger is a sink and knows nothing of what posts into it.
    project_code = models.CharField("项目编号", max_length=32, blank=True, db_index=True, validators=[validate_no_control_characters])
    source_key = models.CharField("来源标识", max_length=64, blank=True, db_index=True)
    revision = models.PositiveIntegerField("版本", default=1)
    reverses = models.OneToOneField(
        "self", verbose_name="冲销", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    description = SingleLineTextField("说明", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "学分登记"
        ordering = ["teacher", "entry_date", "id"]
        indexes = [models.Index(fields=["teacher", "entry_date"]), models.Index(fields=["entry_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "revision"], condition=~Q(source_key=""), name="ledger_source_revision_once"
            ),
        ]

    def __str__(self):
        return f"{self.teacher_id} {self.entry_date} {self.credits}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("学分登记只能追加：更正请登记冲销行。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("学分登记只能追加：不能删除。")


class SubmissionKind(models.TextChoices):
    SCHOOL_BASED = Source.SCHOOL_BASED.value, "校本研修"
    SELF_STUDY = Source.SELF_STUDY.value, "自主研修（师本）"


class SubmissionState(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤回"


class HoursSubmission(models.Model):
    """School-based (校本) and self-study (师本) hours a teacher submits; the principal decides."""

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="hour_submissions")
    kind = models.CharField("类型", max_length=24, choices=SubmissionKind.choices)
    title = SingleLineTextField("研修内容", max_length=200)
    studied_on = models.DateField("研修日期")
    hours = models.DecimalField("学时", max_digits=6, decimal_places=2)
    theme = models.CharField("主题", max_length=8, choices=Theme.choices, default=Theme.SUBJECT)
    evidence = MultiLineTextField("佐证说明")
    state = models.CharField("状态", max_length=12, choices=SubmissionState.choices, default=SubmissionState.SUBMITTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = SingleLineTextField("审核意见", max_length=200, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "学时申报"
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="submission_hours_positive")]

    def __str__(self):
        return f"{self.teacher} {self.title} {self.hours}"


class SubmissionEvent(WorkflowEvent):
    """Every step of an hours submission: submitted, approved or rejected by the principal."""

    submission = models.ForeignKey(HoursSubmission, verbose_name="学时申报", on_delete=models.CASCADE,
                                   related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=SubmissionState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=SubmissionState.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "学时申报审核记录"


class ExemptionKind(models.TextChoices):
    MATERNITY = "产假", "产假"
    SICK_LEAVE = "病假", "病假"
    SECONDED = "长期外派", "长期外派"
    OTHER = "其他", "其他"


class ExemptionStatus(models.TextChoices):
    REQUESTED = "requested", "待审批"
    GRANTED = "granted", "已批准"
    REFUSED = "refused", "未批准"


# An exemption in one of these states stands for its teacher and year: at most one at a time.
EXEMPTION_OPEN_STATES = (ExemptionStatus.REQUESTED, ExemptionStatus.GRANTED)


class Exemption(models.Model):
    """免考核 (CR-4): one teacher exempted from one year's check, with a kind and a reason.

    A school (the principal) requests it; district staff (their district's teachers) or bureau staff
    grant or refuse it with a reason, or grant it directly. Only a granted exemption exempts anyone
    (credits.compliance); the steps are in credits.exemptions, the transitions in credits.rules.
    """

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="exemptions")
    year = models.PositiveIntegerField("年度")
    kind = models.CharField("类型", max_length=8, choices=ExemptionKind.choices, default=ExemptionKind.OTHER)
    reason = SingleLineTextField("原因", max_length=200)
    status = models.CharField("状态", max_length=12, choices=ExemptionStatus.choices, default=ExemptionStatus.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_reason = SingleLineTextField("审批意见", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "免考核"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "year"], condition=Q(status__in=["requested", "granted"]),
                                    name="exemption_once_per_year"),
        ]
        indexes = [models.Index(fields=["status", "year"])]

    def __str__(self):
        return f"{self.teacher} {self.year} 免考核（{self.get_status_display()}）"


class ExemptionEvent(WorkflowEvent):
    """Every step of an exemption: requested by the school, granted or refused by district or bureau staff."""

    exemption = models.ForeignKey(Exemption, verbose_name="免考核", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=ExemptionStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=ExemptionStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "免考核审批记录"


class ReportKind(models.TextChoices):
    LIVE = "live", "实时"
    CLOSED = "closed", "年度关账"


class ReportStatus(models.TextChoices):
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


def report_upload_to(instance, filename):
    return f"reports/compliance/{instance.year}/{filename}"


class ComplianceReport(models.Model):
    """A computed compliance report for a year: the nightly live figures, or the frozen annual close (CR-9).

    The figures are stored (summary, districts, schools) with the workbook file (through the storage
    API), so a closed year never changes when later ledger rows arrive.
    """

    year = models.PositiveIntegerField("年度", db_index=True)
    kind = models.CharField("类型", max_length=8, choices=ReportKind.choices, default=ReportKind.LIVE)
    status = models.CharField("状态", max_length=8, choices=ReportStatus.choices, default=ReportStatus.RUNNING)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    summary = models.JSONField("汇总", default=dict, blank=True)
    districts = models.JSONField("区县", default=list, blank=True)
    schools = models.JSONField("学校", default=list, blank=True)
    workbook = models.FileField("工作簿", upload_to=report_upload_to, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Moved on at every step of a running build; a running report whose heartbeat stops was left by a
    # worker that died, and the sweeper (credits.reports.reports_sweep) queues it again (REL-1).
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "达标报告"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["year"], condition=Q(kind="closed"), name="report_one_close_per_year")
        ]

    def __str__(self):
        return f"{self.year} {self.get_kind_display()} {self.get_status_display()}"


class AmendmentState(models.TextChoices):
    PENDING = "pending", "补报待审"
    APPROVED = "approved", "已通过"
    REFUSED = "refused", "已拒绝"
    WITHDRAWN = "withdrawn", "已撤回"


class AmendmentAction(models.TextChoices):
    SYNC = "sync", "登记/更正"  # bring source_key's rows in line with the wanted posting (credits.posting.ledger_sync)
    REVERSE_ROW = "reverse_row", "冲销"  # cancel one row (credits.posting.ledger_reverse_row)


class Amendment(models.Model):
    """补报 (CR-9 amended): a ledger write dated in a closed year, held until bureau staff decide it.

    credits.posting records it instead of writing: what `source_key` should count (the wanted posting,
    blank date for "nothing") and the live row that implies reversing, who asked and why. One pending
    amendment per source key: a re-import updates it, a source that no longer needs it withdraws it.
    Approval replays the write under the amendment's lock (credits.amendments.amendment_decide).
    """

    year = models.PositiveIntegerField("关账年度", db_index=True)
    source_key = models.CharField("来源标识", max_length=64, db_index=True)
    action = models.CharField("类型", max_length=12, choices=AmendmentAction.choices, default=AmendmentAction.SYNC)
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="amendments")
    # The wanted posting (credits.posting.Posting); entry_date null: the source should count nothing.
    entry_date = models.DateField("日期", null=True, blank=True)
    hours = models.DecimalField("学时", max_digits=8, decimal_places=2, null=True, blank=True)
    credits = models.DecimalField("学分", max_digits=8, decimal_places=2, null=True, blank=True)
    source = models.CharField("来源", max_length=24, choices=Source.choices, blank=True)
    mode = models.CharField("培训方式", max_length=8, choices=Mode.choices, blank=True)
    theme = models.CharField("主题", max_length=8, choices=Theme.choices, blank=True)
    project_code = models.CharField("项目编号", max_length=32, blank=True, validators=[validate_no_control_characters])
    description = SingleLineTextField("说明", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.ForeignKey(
        LedgerEntry, verbose_name="将冲销的记录", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = SingleLineTextField("变更原因", max_length=200, blank=True)
    state = models.CharField("状态", max_length=12, choices=AmendmentState.choices, default=AmendmentState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = SingleLineTextField("审核理由", max_length=200, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "补报"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["year", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["source_key"], condition=Q(state="pending"), name="amendment_one_pending_per_source")
        ]

    def __str__(self):
        return f"{self.year} {self.source_key} {self.get_state_display()}"

    @property
    def wants_row(self) -> bool:
        return self.entry_date is not None

    def same_target(self, other: "Amendment") -> bool:
        """The same change asked again (a re-import of the same row)."""
        return (self.action, self.entry_date, self.hours, self.credits, self.reverses_id) == (
            other.action, other.entry_date, other.hours, other.credits, other.reverses_id)


class AmendmentEvent(WorkflowEvent):
    """One step of a 补报: requested, updated by a re-import, withdrawn, approved or refused."""

    amendment = models.ForeignKey(Amendment, verbose_name="补报", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=AmendmentState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=AmendmentState.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "补报办理记录"
        ordering = ["amendment", "created_at", "id"]


class ClaimState(models.TextChoices):
    SCHOOL_REVIEW = "school_review", "学校审核中"
    DISTRICT_REVIEW = "district_review", "区县审核中"
    RETURNED = "returned", "退回修改"
    APPROVED = "approved", "已认定"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤销认定"


# A claim in one of these states waits for a reviewer's decision (what the turnaround report watches).
CLAIM_OPEN_STATES = (ClaimState.SCHOOL_REVIEW, ClaimState.DISTRICT_REVIEW)


class Claim(models.Model):
    """学时认定: a teacher's claim for hours of training outside the system, with evidence (SPEC §4).

    The school reviews, then the district (or the bureau); an approved claim posts one ledger row of
    source external certificate under source_key ``claim:<id>``. The transitions live in credits/claims.py.
    `school` is the school that reviews: the teacher's school when the claim was (re)submitted.
    """

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="claims")
    school = models.ForeignKey("bureau.School", verbose_name="审核学校", on_delete=models.PROTECT, related_name="+")
    title = SingleLineTextField("培训名称", max_length=200)
    organiser = SingleLineTextField("主办单位", max_length=200)
    # CR-11: optional, as printed on the certificate; they find a duplicate claim or posting.
    project_code = SingleLineTextField("项目编号", max_length=32, blank=True, default="")
    certificate_no = SingleLineTextField("证书编号", max_length=64, blank=True, default="")
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期")
    hours = models.DecimalField("学时", max_digits=6, decimal_places=2)
    mode = models.CharField("培训方式", max_length=8, choices=Mode.choices)
    theme = models.CharField("主题", max_length=8, choices=Theme.choices)
    state = models.CharField("状态", max_length=16, choices=ClaimState.choices, default=ClaimState.SCHOOL_REVIEW)
    state_since = models.DateTimeField("进入当前环节时间")
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="办结人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (the principal's dashboard counts)

    class Meta:
        verbose_name = verbose_name_plural = "学时认定"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["state", "school"]), models.Index(fields=["decided_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="claim_hours_positive"),
            models.CheckConstraint(condition=Q(ended_on__gte=models.F("started_on")), name="claim_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.teacher} {self.title} {self.hours}"

    @property
    def holder(self) -> str:
        """Who holds the claim now, in words (uses school, its district and the teacher: select_related them)."""
        if self.state == ClaimState.SCHOOL_REVIEW:
            return f"学校审核中（{self.school.name}）"
        if self.state == ClaimState.DISTRICT_REVIEW:
            return f"区县审核中（{self.school.district.name}）"
        if self.state == ClaimState.RETURNED:
            return f"退回教师修改（{self.teacher.name}）"
        return f"已办结（{self.get_state_display()}）"


def evidence_upload_to(instance, filename):
    return f"evidence/{instance.claim_id}/{filename}"


class ClaimEvidence(models.Model):
    """One evidence file of a claim, kept through the storage API (SCALE-1); the type is read from the content."""

    claim = models.ForeignKey(Claim, verbose_name="认定申请", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_upload_to, max_length=200)
    original_name = SingleLineTextField("原文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "认定佐证材料"
        ordering = ["claim", "id"]

    def __str__(self):
        return self.original_name


class ClaimEvent(WorkflowEvent):
    """One step of a claim: who moved it from which state to which, and why."""

    claim = models.ForeignKey(Claim, verbose_name="认定申请", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=ClaimState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=ClaimState.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "认定办理记录"
        ordering = ["claim", "created_at", "id"]

    def __str__(self):
        return f"{self.claim_id} {self.from_state or '—'} → {self.to_state}"
