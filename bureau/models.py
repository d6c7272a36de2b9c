"""Organisation and people (SPEC §2): districts, clusters, schools, teachers, postings; roles; audit."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .choices import (
    Education,
    EmploymentType,
    Gender,
    Location,
    PostingKind,
    Role,
    Stage,
    Status,
    Title,
)
from .text import MultiLineTextField, SingleLineTextField, validate_no_control_characters
from .versions import VersionedQuerySet


class District(models.Model):
    code = models.CharField("区县代码", max_length=32, unique=True, validators=[validate_no_control_characters])
    name = models.CharField("区县名称", max_length=64, unique=True, validators=[validate_no_control_characters])

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "区县"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Cluster(models.Model):
    """片区: a named group of schools led by one school (EX-6)."""

    name = models.CharField("片区名称", max_length=64, unique=True, validators=[validate_no_control_characters])
    district = models.ForeignKey(
        District, verbose_name="区县", on_delete=models.PROTECT, null=True, blank=True, related_name="clusters"
    )
    lead_school = models.ForeignKey(
        "School", verbose_name="牵头学校", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "片区"
        ordering = ["name"]

    def __str__(self):
        return self.name


class School(models.Model):
    code = models.CharField("学校代码", max_length=32, unique=True, validators=[validate_no_control_characters])
    name = models.CharField("学校名称", max_length=128, validators=[validate_no_control_characters])
    district = models.ForeignKey(District, verbose_name="区县", on_delete=models.PROTECT, related_name="schools")
    stage = models.CharField("学段", max_length=16, choices=Stage.choices)
    location = models.CharField("城乡类型", max_length=8, choices=Location.choices)
    is_weak = models.BooleanField("薄弱学校", default=False)
    cluster = models.ForeignKey(
        Cluster, verbose_name="片区", on_delete=models.SET_NULL, null=True, blank=True, related_name="schools"
    )
    staffing_quota = models.PositiveIntegerField("编制数", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(verbose_name="学校变更记录")

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "学校"
        ordering = ["code"]
        indexes = [models.Index(fields=["district", "stage"])]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class SubjectQuota(models.Model):
    """编制数 per subject (EX-2 surplus, EX-6 shortage). Optional: many schools have a total only."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="subject_quotas")
    subject = models.CharField("学科", max_length=32, validators=[validate_no_control_characters])
    quota = models.PositiveIntegerField("编制数")

    class Meta:
        verbose_name = verbose_name_plural = "学科编制"
        constraints = [models.UniqueConstraint(fields=["school", "subject"], name="subject_quota_unique")]

    def __str__(self):
        return f"{self.school.code} {self.subject} {self.quota}"


class Teacher(models.Model):
    staff_no = models.CharField("工号", max_length=32, unique=True, validators=[validate_no_control_characters])
    name = models.CharField("姓名", max_length=64, db_index=True, validators=[validate_no_control_characters])
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    # Personal data (SEC-3): masked everywhere unless the viewer holds bureau.view_full_id_number.
    id_number = models.CharField("身份证号", max_length=18, null=True, blank=True, unique=True, validators=[validate_no_control_characters])
    # SEC-3: a number set by anyone but bureau staff waits here until the bureau confirms it, so no import
    # tells a district whether a number already belongs to a teacher outside it (see docs/decisions.md).
    pending_id_number = models.CharField("待核验身份证号", max_length=18, blank=True,
                                         validators=[validate_no_control_characters])
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="teachers")
    subject = models.CharField("任教学科", max_length=32, validators=[validate_no_control_characters])
    title = models.CharField("职称", max_length=8, choices=Title.choices)
    education = models.CharField("学历", max_length=8, choices=Education.choices)
    employed_on = models.DateField("参加工作日期")
    joined_school_on = models.DateField("入校日期")
    employment_type = models.CharField("编制类型", max_length=4, choices=EmploymentType.choices)
    status = models.CharField("在职状态", max_length=4, choices=Status.choices, default=Status.ACTIVE)
    # CR-7 (amended): the day the current status took effect. A change of status is recorded in
    # StatusChange with its effective date, so a year's figures take the status of 31 December of that
    # year, never today's. Rows that existed before carry the day they were imported.
    status_since = models.DateField("状态生效日期", null=True, blank=True,
                                    help_text="在职状态变更时填写变更生效的日期；不填则为今天")
    is_class_teacher = models.BooleanField("班主任", default=False)
    # EX-4: never proposed for exchange.
    is_non_teaching = models.BooleanField("非教学人员", default=False)
    cannot_teach = models.BooleanField("暂不能任教", default=False, help_text="如长期病假、孕产期等")
    qualification_cert_no = models.CharField("教师资格证号", max_length=32, blank=True, validators=[validate_no_control_characters])
    qualification_registered_on = models.DateField("资格定期注册日期", null=True, blank=True)
    qualification_registration_due = models.DateField("下次定期注册日期", null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teacher",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # The history leaves the ID-card number out: personal data is kept in one place only (SEC-3).
    history = HistoricalRecords(verbose_name="教师变更记录", excluded_fields=["id_number", "pending_id_number", "user"])

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "教师"
        ordering = ["staff_no"]
        permissions = [("view_full_id_number", "可查看完整身份证号")]
        indexes = [models.Index(fields=["school", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(joined_school_on__gte=F("employed_on")), name="teacher_joined_after_employed"
            ),
            models.CheckConstraint(condition=Q(employed_on__gt=F("birth_date")), name="teacher_employed_after_birth"),
        ]

    def __str__(self):
        return f"{self.name}（{self.staff_no}）"


class Posting(models.Model):
    """任职经历: never overwritten, only closed. The history behind EX-1 tenure and EX-7 rural years.

    A teacher holds at most one open home post (kind regular) and at most one open secondment
    (exchange, rural support, partnership) at a time: exchanged teachers keep their home post (EX-8).
    """

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="postings")
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="postings")
    kind = models.CharField("任职类型", max_length=16, choices=PostingKind.choices, default=PostingKind.REGULAR)
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    note = SingleLineTextField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (CR-7 reads postings)

    class Meta:
        verbose_name = verbose_name_plural = "任职经历"
        ordering = ["teacher", "started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher"],
                condition=Q(ended_on__isnull=True, kind=PostingKind.REGULAR),
                name="posting_one_open_home_post",
            ),
            models.UniqueConstraint(
                fields=["teacher"],
                condition=Q(ended_on__isnull=True) & ~Q(kind=PostingKind.REGULAR),
                name="posting_one_open_secondment",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="posting_ends_after_start"
            ),
        ]
        # CR-7: the compliance query looks for teachers whose home post closed in or after the year.
        indexes = [models.Index(fields=["ended_on"], condition=Q(ended_on__isnull=False), name="posting_closed_end")]

    def __str__(self):
        return f"{self.teacher} @ {self.school.code} {self.started_on}–{self.ended_on or '至今'}"


class StatusChange(models.Model):
    """一次在职状态变更 (CR-7 amended): from which status to which, effective on which day. Appended,
    never edited; effective dates of a teacher's changes never go backwards (bureau.services), so the
    status of any day is the `from_status` of the first change after it, or the teacher's status now."""

    teacher = models.ForeignKey(Teacher, verbose_name="教师", on_delete=models.PROTECT, related_name="status_changes")
    effective_on = models.DateField("生效日期")
    from_status = models.CharField("原状态", max_length=4, choices=Status.choices)
    to_status = models.CharField("新状态", max_length=4, choices=Status.choices)
    note = SingleLineTextField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (CR-7 reads the changes)

    class Meta:
        verbose_name = verbose_name_plural = "在职状态变更"
        ordering = ["teacher", "effective_on", "id"]
        indexes = [models.Index(fields=["effective_on"], name="statuschange_effective")]

    def __str__(self):
        return f"{self.teacher} {self.from_status}→{self.to_status} {self.effective_on}"


class Profile(models.Model):
    """A user's role and the scope it is tied to (SPEC §1)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    district = models.ForeignKey(District, verbose_name="区县", on_delete=models.PROTECT, null=True, blank=True)
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, null=True, blank=True)
    # The explicit link to an identity at the bureau's identity provider (bureau.sso, issue 19 item 3): set by
    # bureau staff in the admin; the only way an account other than a teacher's (matched by 工号) signs in
    # through the provider unless SSO_MATCH_USERNAME. Issuer: the OIDC provider's `iss` (OIDC_OP_ISSUER) or the
    # CAS server (CAS_SERVER_URL); subject: the id_token's `sub`, or the CAS user (CAS_USERNAME_ATTRIBUTE).
    sso_issuer = models.CharField("统一身份认证签发方", max_length=255, blank=True)
    sso_subject = models.CharField(
        "统一身份认证用户标识", max_length=255, blank=True,
        help_text="统一身份认证中该账号的唯一标识（OIDC 的 sub，或 CAS 用户名）。留空则不能通过统一身份认证登录（教师按工号匹配）。",
    )

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "角色与范围"
        constraints = [
            models.UniqueConstraint(
                fields=["sso_issuer", "sso_subject"], condition=~Q(sso_subject=""), name="profile_sso_identity_unique",
                violation_error_message="该统一身份认证标识已关联到其他账号。",
            ),
            models.CheckConstraint(
                name="profile_sso_identity_complete",
                condition=Q(sso_issuer="", sso_subject="") | (~Q(sso_issuer="") & ~Q(sso_subject="")),
                violation_error_message="签发方与用户标识须同时填写或同时留空。",
            ),
            models.CheckConstraint(
                name="profile_scope_matches_role",
                condition=(
                    Q(role__in=[Role.BUREAU, Role.AUDITOR, Role.TEACHER], district__isnull=True, school__isnull=True)
                    | Q(role=Role.DISTRICT, district__isnull=False, school__isnull=True)
                    | Q(role=Role.PRINCIPAL, district__isnull=True, school__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"


class AuditEntry(models.Model):
    """Workflow audit row, written explicitly by services in the same transaction (habit 13)."""

    action = models.CharField("操作", max_length=64, db_index=True)  # namespaced: bureau.teachers.imported
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象", max_length=64, blank=True)
    data = models.JSONField("内容", default=dict, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "操作记录"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class WorkflowEvent(models.Model):
    """One step of a workflow (habit 17): who (actor, null for the system) moved which object from which
    state to which, why and when. Every workflow's event table inherits this shape and adds only its
    foreign key to the object; the service writes the row in the same transaction as the change
    (bureau.services.event_record). The namespaced AuditEntry is written besides, as before."""

    action = models.CharField("操作", max_length=32)
    from_state = models.CharField("原状态", max_length=16, blank=True)
    to_state = models.CharField("新状态", max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = SingleLineTextField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.action} {self.from_state or '—'} → {self.to_state}"


class Notice(models.Model):
    """One inbox for everyone: a notice reaches its recipient once (the key makes sending idempotent)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="notices"
    )
    key = models.CharField("去重标识", max_length=120)
    title = SingleLineTextField("标题", max_length=200)
    body = MultiLineTextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = VersionedQuerySet.as_manager()  # bulk writes bump the cache (bureau.versions)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notice_once_per_key")]
        # The unread count in every page's header.
        indexes = [models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notice_unread")]

    def __str__(self):
        return self.title


class ExportStatus(models.TextChoices):
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


def export_upload_to(instance, filename):
    return f"exports/{instance.created_by_id or 0}/{filename}"


class ExportJob(models.Model):
    """One workbook built in the background (issue 18 item 3): any app registers a builder for its `kind`
    (bureau.exports); the job keeps the user's scope at request time, the builder checks it again."""

    kind = models.CharField("类型", max_length=40, db_index=True)
    title = models.CharField("名称", max_length=200)
    params = models.JSONField("参数", default=dict, blank=True)
    scope = models.JSONField("发起时的权限范围", default=dict, blank=True)
    status = models.CharField("状态", max_length=8, choices=ExportStatus.choices, default=ExportStatus.RUNNING)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    file = models.FileField("文件", upload_to=export_upload_to, blank=True, max_length=300)
    filename = models.CharField("下载文件名", max_length=200, blank=True)
    rows = models.PositiveIntegerField("行数", default=0)
    error = models.CharField("错误", max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.CASCADE,
                                   related_name="+")
    created_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Moved at every step of a running build; the sweeper queues a job whose heartbeat stopped again (REL-1).
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "导出文件"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="exportjob_user_idx"),
                   models.Index(fields=["status", "heartbeat_at"], name="exportjob_status_idx")]

    def __str__(self):
        return f"{self.title} {self.get_status_display()}"
