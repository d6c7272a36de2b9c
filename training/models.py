"""Training projects, enrolment, attendance, results and surveys (SPEC §3)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from bureau.choices import Grade, Mode, Theme
from bureau.models import District, Teacher, WorkflowEvent
from bureau.text import MultiLineTextField, SingleLineTextField, validate_no_control_characters
from bureau.versions import VersionedQuerySet

from . import rules


class Level(models.TextChoices):
    NATIONAL = "国培", "国培"
    PROVINCIAL = "省培", "省培"
    MUNICIPAL = "市培", "市培"
    COUNTY = "县培", "县培"
    SCHOOL = "校本", "校本"
    SELF = "师本", "师本"


class Kind(models.TextChoices):
    REQUIRED = "必修", "必修"
    ELECTIVE = "选修", "选修"


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    ENROLLING = "enrolling", "报名中"
    RUNNING = "running", "进行中"
    FINISHED = "finished", "已结束"
    ARCHIVED = "archived", "已归档"


class Project(models.Model):
    code = models.CharField("项目编号", max_length=32, unique=True, validators=[validate_no_control_characters])
    name = models.CharField("项目名称", max_length=200, validators=[validate_no_control_characters])
    level = models.CharField("项目级别", max_length=4, choices=Level.choices)
    mode = models.CharField("培训方式", max_length=8, choices=Mode.choices)
    kind = models.CharField("类别", max_length=4, choices=Kind.choices)
    theme = models.CharField("主题", max_length=8, choices=Theme.choices)
    hours = models.DecimalField("学时", max_digits=7, decimal_places=2, validators=[MinValueValidator(0)])
    credits = models.DecimalField(
        "学分", max_digits=7, decimal_places=2, null=True, blank=True, help_text="留空则按学分政策的每学时折算学分计算"
    )
    start_on = models.DateField("开始日期")
    end_on = models.DateField("结束日期")
    organiser = models.CharField("承办单位", max_length=200, validators=[validate_no_control_characters])
    capacity = models.PositiveIntegerField("名额", null=True, blank=True, help_text="留空表示不限")
    # Target audience: empty means everyone.
    target_stages = models.JSONField("面向学段", default=list, blank=True)
    target_subjects = models.JSONField("面向学科", default=list, blank=True)
    target_titles = models.JSONField("面向职称", default=list, blank=True)
    target_districts = models.ManyToManyField(District, verbose_name="面向区县", blank=True)
    enrol_opens_on = models.DateField("报名开始", null=True, blank=True)
    enrol_closes_on = models.DateField("报名截止", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    shares_release_on = models.DateField(
        "名额释放日期", null=True, blank=True, help_text="自该日起，各单位未用完的名额回到公共名额池，所有符合条件的学校均可使用"
    )
    # Who runs the project (SPEC §1, the "3+1" duties): neither = the bureau (国培/省培 selection, 市培);
    # a district for its 县培 projects; a school for its 校本 projects. See training.organisers.
    owner_district = models.ForeignKey(
        District, verbose_name="主办区县", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="县培项目由区县主办；留空表示市教育局主办",
    )
    owner_school = models.ForeignKey(
        "bureau.School", verbose_name="主办学校", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="校本项目由学校主办",
    )
    min_attendance_rate = models.PositiveSmallIntegerField(
        "最低出勤率（%）", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="考核结果为优秀或合格须达到的出勤率；留空表示不要求（没有场次的项目从不因此拒绝）",
    )
    issues_certificates = models.BooleanField(
        "发放培训证书", null=True, blank=True, help_text="留空：国培、省培、市培、县培发放，校本、师本不发放"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(verbose_name="项目变更记录", m2m_fields=[])

    class Meta:
        verbose_name = verbose_name_plural = "培训项目"
        ordering = ["-start_on", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(end_on__gte=F("start_on")), name="project_ends_after_start"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="project_hours_not_negative"),
            models.CheckConstraint(condition=Q(credits__isnull=True) | Q(credits__gte=0), name="project_credits_not_negative"),
            models.CheckConstraint(condition=Q(owner_district__isnull=True) | Q(owner_school__isnull=True),
                                   name="project_one_owner"),
            models.CheckConstraint(condition=Q(min_attendance_rate__isnull=True) | Q(min_attendance_rate__lte=100),
                                   name="project_min_attendance_rate_percent"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class ProjectEvent(WorkflowEvent):
    """Every step of a project's life cycle (publish, open enrolment, start, finish, archive) and who took it."""

    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=ProjectStatus.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=ProjectStatus.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "项目状态记录"


class EnrolmentState(models.TextChoices):
    APPLIED = "applied", "已报名"
    SCHOOL_APPROVED = "school_approved", "学校已审核"
    APPROVED = "approved", "已录取"
    REJECTED = "rejected", "未通过"
    ATTENDING = "attending", "参训中"
    COMPLETED = "completed", "已结业"
    WITHDRAWN = "withdrawn", "已退出"
    NO_SHOW = "no_show", "未报到"
    WAITLISTED = "waitlisted", "候补中"


# States that hold a seat against the project's capacity (候补中 holds none: training.waitlist).
SEAT_STATES = [
    EnrolmentState.APPLIED,
    EnrolmentState.SCHOOL_APPROVED,
    EnrolmentState.APPROVED,
    EnrolmentState.ATTENDING,
    EnrolmentState.COMPLETED,
]


class Enrolment(models.Model):
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.PROTECT, related_name="enrolments")
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="enrolments")
    state = models.CharField("状态", max_length=16, choices=EnrolmentState.choices, default=EnrolmentState.APPLIED)
    nominated = models.BooleanField("校长选派", default=False)
    imported = models.BooleanField("由结果导入创建", default=False)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报名人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set once, by a conditional UPDATE, when the start reminder is sent (training.reminders): never twice.
    reminded_at = models.DateTimeField("开班提醒时间", null=True, blank=True)
    created_at = models.DateTimeField("报名时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "报名"
        ordering = ["project", "teacher"]
        constraints = [models.UniqueConstraint(fields=["project", "teacher"], name="enrolment_once_per_project")]
        indexes = [models.Index(fields=["project", "state"])]

    def __str__(self):
        return f"{self.teacher} · {self.project.code}"

    def teacher_status(self) -> str:
        """The state in the teacher's terms (training.rules.teacher_status); load with select_related("result")."""
        try:
            grade = self.result.grade
        except Result.DoesNotExist:
            grade = None
        return rules.teacher_status(self.get_state_display(), grade)


class EnrolmentEvent(WorkflowEvent):
    """Every transition of an enrolment, with who made it (the approval chain's record)."""

    enrolment = models.ForeignKey(Enrolment, verbose_name="报名", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=EnrolmentState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=EnrolmentState.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "报名审核记录"


class Session(models.Model):
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField("日期")
    title = SingleLineTextField("内容", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训场次"
        ordering = ["project", "held_on"]
        constraints = [models.UniqueConstraint(fields=["project", "held_on", "title"], name="session_unique")]

    def __str__(self):
        return f"{self.project.code} {self.held_on} {self.title}"


class Attendance(models.Model):
    """考勤: one row per (session, enrolment). The session and the enrolment belong to the same project:
    checked by `clean`, by the one writer (training.attendance) and, in the database, by triggers
    (migration 0010_tr15att_attendance), since a check constraint cannot look across tables."""

    session = models.ForeignKey(Session, verbose_name="场次", on_delete=models.CASCADE, related_name="attendance")
    enrolment = models.ForeignKey(Enrolment, verbose_name="报名", on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField("出勤", default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField("登记时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "考勤"
        constraints = [models.UniqueConstraint(fields=["session", "enrolment"], name="attendance_once")]

    def clean(self):
        super().clean()
        if self.session_id and self.enrolment_id and self.session.project_id != self.enrolment.project_id:
            raise ValidationError("考勤的场次与报名须属于同一培训项目。")


class Result(models.Model):
    """考核结果: one per enrolment. Saving it goes through training.services.result_post (CR-1, CR-2)."""

    enrolment = models.OneToOneField(Enrolment, verbose_name="报名", on_delete=models.PROTECT, related_name="result")
    grade = models.CharField("考核结果", max_length=4, choices=Grade.choices)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    certified_hours = models.DecimalField(
        "认定学时", max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(verbose_name="考核结果变更记录")

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "考核结果"
        indexes = [models.Index(fields=["completed_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(grade__in=["优秀", "合格"]) | Q(completed_on__isnull=False), name="result_passing_has_date"
            )
        ]

    def __str__(self):
        return f"{self.enrolment} {self.grade}"


class SurveyKind(models.TextChoices):
    NEEDS = "needs", "需求调研"
    SATISFACTION = "satisfaction", "满意度调查"


class SurveyResponse(models.Model):
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.CASCADE, related_name="survey_responses")
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("问卷", max_length=16, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField("评分", validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = MultiLineTextField("意见", blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "问卷答复"
        constraints = [
            models.UniqueConstraint(fields=["project", "teacher", "kind"], name="survey_once"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"),
        ]


class ProjectShare(models.Model):
    """名额分配: a district's share of a project's capacity (set by the organiser), or a school's share of
    its district's share (set by district staff). Shares never add up to more than the level above."""

    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.CASCADE, related_name="shares")
    district = models.ForeignKey(District, verbose_name="区县", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    school = models.ForeignKey("bureau.School", verbose_name="学校", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    seats = models.PositiveIntegerField("名额")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="分配人", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "名额分配"
        constraints = [
            models.CheckConstraint(
                condition=Q(district__isnull=False, school__isnull=True) | Q(district__isnull=True, school__isnull=False),
                name="share_one_unit",
            ),
            models.UniqueConstraint(fields=["project", "district"], condition=Q(district__isnull=False),
                                    name="share_once_per_district"),
            models.UniqueConstraint(fields=["project", "school"], condition=Q(school__isnull=False),
                                    name="share_once_per_school"),
        ]

    def __str__(self):
        return f"{self.project.code} {self.district or self.school} {self.seats}"


class CertificateStatus(models.TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已撤销"


class Certificate(models.Model):
    """培训证书 (and backbone-title certificates, which backbone's roster entry points to): a random code
    anyone can verify; never deleted.

    A certificate never shows stale hours: a changed result revokes it and, where still passing, a new one
    is issued. At most one valid certificate per result (a partial unique index).
    """

    code = models.CharField("证书编号", max_length=16, unique=True, validators=[validate_no_control_characters])
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="certificates")
    result = models.ForeignKey(Result, verbose_name="考核结果", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="certificates")
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="certificates")
    title = SingleLineTextField("证书名称", max_length=200)
    hours = models.DecimalField("学时", max_digits=7, decimal_places=2, null=True, blank=True)
    credits = models.DecimalField("学分", max_digits=7, decimal_places=2, null=True, blank=True)
    completed_on = models.DateField("完成日期")
    expires_on = models.DateField("有效期至", null=True, blank=True)
    status = models.CharField("状态", max_length=8, choices=CertificateStatus.choices, default=CertificateStatus.VALID)
    issued_at = models.DateTimeField("发放时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = SingleLineTextField("撤销原因", max_length=200, blank=True)
    # The certificate's bit in the published revocation status list (W3C Bitstring Status List): the row's
    # id, set by the migration for old rows and on the first credential for new ones; never changed.
    status_index = models.PositiveIntegerField("状态列表序号", unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "证书"
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["result"], condition=Q(status="valid", result__isnull=False),
                                    name="certificate_one_valid_per_result"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class AppealKind(models.TextChoices):
    RESULT = "result", "考核结果"
    LEDGER = "ledger", "学分记录"
    VERDICT = "verdict", "年度考核结论"


class AppealState(models.TextChoices):
    PENDING = "pending", "待处理"
    UPHELD = "upheld", "已支持"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


class Appeal(models.Model):
    """申诉 (CR-12): a teacher appeals a training result, one ledger row, or the year's verdict.

    The project's organiser (training.organisers) or bureau staff decide with a reason; an upheld appeal
    corrects through the result service or the ledger services, never by editing. `project` is the
    project behind the target (a result, or a ledger row posted by a result): it says who may decide.
    `school` is the teacher's school when the appeal was filed (the turnaround report's row). The
    transitions and the writes are in training/appeals.py.
    """

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="appeals")
    school = models.ForeignKey("bureau.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("申诉对象", max_length=8, choices=AppealKind.choices)
    result = models.ForeignKey(Result, verbose_name="考核结果", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="appeals")
    ledger_entry = models.ForeignKey("credits.LedgerEntry", verbose_name="学分记录", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    year = models.PositiveIntegerField("年度", null=True, blank=True)
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="appeals")
    reason = MultiLineTextField("申诉理由")
    state = models.CharField("状态", max_length=12, choices=AppealState.choices, default=AppealState.PENDING)
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = SingleLineTextField("处理意见", max_length=200, blank=True)
    correction = models.JSONField("更正内容", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "申诉"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["state", "school"]), models.Index(fields=["decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="result", result__isnull=False, ledger_entry__isnull=True, year__isnull=True)
                           | Q(kind="ledger", result__isnull=True, ledger_entry__isnull=False, year__isnull=True)
                           | Q(kind="verdict", result__isnull=True, ledger_entry__isnull=True, year__isnull=False)),
                name="appeal_one_target_of_its_kind",
            ),
            # One pending appeal per target: a second one waits until the first is decided or withdrawn.
            models.UniqueConstraint(fields=["teacher", "kind", "result", "ledger_entry", "year"],
                                    condition=Q(state="pending"), nulls_distinct=False, name="appeal_one_pending"),
        ]

    def __str__(self):
        return f"{self.teacher} 申诉 {self.get_kind_display()}（{self.get_state_display()}）"


class AppealEvent(WorkflowEvent):
    """One step of an appeal: filed, withdrawn by the teacher, upheld or rejected by the decider."""

    appeal = models.ForeignKey(Appeal, verbose_name="申诉", on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField("原状态", max_length=16, choices=AppealState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=AppealState.choices)

    class Meta(WorkflowEvent.Meta):
        verbose_name = verbose_name_plural = "申诉处理记录"
        ordering = ["appeal", "created_at", "id"]


# --- Issue 19 item 1: training providers pushing completion records (training.providers) ----------------

class Provider(models.Model):
    """培训机构: an outside platform that pushes completion records through the provider API with its API
    key (`Authorization: Api-Key <key>`) or an OAuth2 access token (`Authorization: Bearer <token>`). Only a hash of the key is kept; the key is shown once when
    issued (admin action or `manage.py provider_key`). It may post results for the projects it runs:
    `projects`, and every project whose 承办单位 equals `organiser` when that is set."""

    name = SingleLineTextField("机构名称", max_length=200, unique=True)
    active = models.BooleanField("启用", default=True)
    projects = models.ManyToManyField(Project, verbose_name="承办项目", blank=True, related_name="providers")
    organiser = SingleLineTextField("承办单位名称", max_length=200, blank=True, default="",
                                    help_text="填写后，承办单位为此名称的项目均可推送")
    key_prefix = models.CharField("密钥前缀", max_length=12, blank=True, default="", db_index=True)
    key_hash = models.CharField("密钥摘要", max_length=64, blank=True, default="", editable=False)
    key_issued_at = models.DateTimeField("密钥签发时间", null=True, blank=True)
    # The second way in: an OAuth2 client (client credentials grant) whose access tokens stand for this
    # provider (`Authorization: Bearer <token>`); made by training.providers.provider_oauth_client_issue.
    oauth_application = models.OneToOneField(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, verbose_name="OAuth2 客户端",
                                             on_delete=models.SET_NULL, null=True, blank=True, editable=False,
                                             related_name="training_provider")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训机构（数据推送）"

    def __str__(self):
        return self.name


class ProviderCourse(models.Model):
    """A provider's own course id mapped to one of our projects."""

    provider = models.ForeignKey(Provider, verbose_name="培训机构", on_delete=models.CASCADE, related_name="courses")
    external_id = SingleLineTextField("机构课程编号", max_length=200)
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "机构课程对应"
        constraints = [models.UniqueConstraint(fields=["provider", "external_id"], name="provider_course_once")]

    def __str__(self):
        return f"{self.provider} {self.external_id} → {self.project.code}"


class ProviderRecordState(models.TextChoices):
    POSTED = "posted", "已登记"
    HELD = "held", "待核查"
    REJECTED = "rejected", "已驳回"


class ProviderRecord(models.Model):
    """One completion record as a provider last sent it, idempotent on (provider, record_id). A posted
    record's result is training.Result (through result_record); a held one waits for bureau staff because
    it matches a recognition claim (`claim`) or an existing result (`result`) of the same teacher (CR-11),
    and posts only when released (or, sent again, when the match is gone: training.providers)."""

    provider = models.ForeignKey(Provider, verbose_name="培训机构", on_delete=models.PROTECT, related_name="records")
    record_id = SingleLineTextField("机构记录编号", max_length=200)
    project = models.ForeignKey(Project, verbose_name="培训项目", on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="+")
    grade = models.CharField("考核结果", max_length=4, choices=Grade.choices)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    certified_hours = models.DecimalField("认定学时", max_digits=7, decimal_places=2, null=True, blank=True)
    state = models.CharField("状态", max_length=12, choices=ProviderRecordState.choices)
    claim = models.ForeignKey("credits.Claim", verbose_name="疑似重复的认定申请", on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    result = models.ForeignKey(Result, verbose_name="疑似重复的考核结果", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    hold_reason = models.CharField("待核查原因", max_length=200, blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decision_reason = models.CharField("处理说明", max_length=200, blank=True, default="")
    created_at = models.DateTimeField("接收时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "机构推送记录"
        constraints = [models.UniqueConstraint(fields=["provider", "record_id"], name="provider_record_once")]
        indexes = [models.Index(fields=["state"])]

    def __str__(self):
        return f"{self.provider} {self.record_id}"
