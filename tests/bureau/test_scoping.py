"""SEC-1 in the admin: who may open which page of the bureau app, and which rows each role sees.

The role matrix below is the policy; the tests after it prove the doors around it (read-only roles'
POSTs, simple_history's version pages, changelists, autocomplete) keep to the same scope.
"""

import pytest
from django.urls import reverse

from bureau.models import AuditEntry, Cluster, ExportJob, Posting, Profile, School, Teacher

ROLES = ["anonymous", "superuser", "bureau", "district", "principal", "teacher", "auditor"]

OK = 200  # the page renders
NO = 403  # the role may not do this at all
LOGIN = "login"  # 302 to the admin login: not signed in, or not staff (teachers use the portal)
GONE = "gone"  # 302 to the admin index with "does not exist": the object is outside the user's scope

# SEC-1, the admin policy. Objects: D1 ⊃ S1 ⊃ T1 (the principal's school), D1 ⊃ S2 ⊃ T2 (the district
# user's other school), D2 ⊃ S3 ⊃ T3 (outside both). C1/C2 are clusters of D1/D2, P1..P3 the teachers'
# open postings. Principals hold no district or cluster permissions; districts may add and change
# teachers and change schools; auditors view everything and change nothing. "history" is the list of
# stored versions of a row, "version" one stored version (a form that saves on POST).
POLICY = [
    # page                       anon    super   bureau  distr.  princ.  teacher auditor
    ("bureau app_list",          LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("district changelist",      LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  OK),
    ("district change D1",       LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  OK),
    ("district change D2",       LOGIN,  OK,     OK,     GONE,   NO,     LOGIN,  OK),
    ("district add",             LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("cluster changelist",       LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  OK),
    ("cluster change C1",        LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  OK),
    ("cluster change C2",        LOGIN,  OK,     OK,     GONE,   NO,     LOGIN,  OK),
    ("cluster add",              LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("school changelist",        LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("school change S1",         LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("school change S2",         LOGIN,  OK,     OK,     OK,     GONE,   LOGIN,  OK),
    ("school change S3",         LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("school history S1",        LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("school history S3",        LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("school add",               LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("school import",            LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("teacher changelist",       LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("teacher change T1",        LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("teacher change T2",        LOGIN,  OK,     OK,     OK,     GONE,   LOGIN,  OK),
    ("teacher change T3",        LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("teacher history T1",       LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("teacher history T2",       LOGIN,  OK,     OK,     OK,     GONE,   LOGIN,  OK),
    ("teacher history T3",       LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("teacher version T1",       LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("teacher version T3",       LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("teacher add",              LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  NO),
    ("teacher import",           LOGIN,  OK,     OK,     OK,     NO,     LOGIN,  NO),
    ("posting changelist",       LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("posting change P1",        LOGIN,  OK,     OK,     OK,     OK,     LOGIN,  OK),
    ("posting change P2",        LOGIN,  OK,     OK,     OK,     GONE,   LOGIN,  OK),
    ("posting change P3",        LOGIN,  OK,     OK,     GONE,   GONE,   LOGIN,  OK),
    ("posting add",              LOGIN,  NO,     NO,     NO,     NO,     LOGIN,  NO),
    ("profile changelist",       LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("profile change district",  LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("profile add",              LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("auditentry changelist",    LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  OK),
    ("auditentry change first",  LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  OK),
    ("auditentry add",           LOGIN,  NO,     NO,     NO,     NO,     LOGIN,  NO),
    ("exportjob changelist",     LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("exportjob change job",     LOGIN,  OK,     OK,     NO,     NO,     LOGIN,  NO),
    ("exportjob add",            LOGIN,  NO,     NO,     NO,     NO,     LOGIN,  NO),
]

MATRIX = [
    pytest.param(page, role, expected, id=f"{page.replace(' ', '-')}-{role}")
    for page, *row in POLICY
    for role, expected in zip(ROLES, row, strict=True)
]


@pytest.fixture
def org(city, users):
    """The `city` of conftest with a cluster per district and named handles for every object."""
    d1, d2 = city["districts"]
    s1, s2, s3 = city["schools"]
    t1, t2, t3 = city["teachers"]
    objects = {
        "D1": d1,
        "D2": d2,
        "C1": Cluster.objects.create(name="城东片区", district=d1, lead_school=s1),
        "C2": Cluster.objects.create(name="城西片区", district=d2, lead_school=s3),
        "S1": s1,
        "S2": s2,
        "S3": s3,
        "T1": t1,
        "T2": t2,
        "T3": t3,
        "district": Profile.objects.get(user=users["district"]),
        "first": AuditEntry.objects.order_by("pk").first(),
        "job": ExportJob.objects.create(kind="compliance", title="2026 年度达标报表", created_by=users["auditor"]),
    }
    for label, teacher in (("P1", t1), ("P2", t2), ("P3", t3)):
        objects[label] = Posting.objects.get(teacher=teacher, ended_on__isnull=True)
    return objects


def page_url(page: str, org) -> str:
    model, view, *label = page.split()
    if view == "app_list":
        return reverse("admin:app_list", kwargs={"app_label": model})
    if view == "changelist" or view == "add" or view == "import":
        return reverse(f"admin:bureau_{model}_{view}")
    obj = org[label[0]]
    if view == "version":
        version = obj.history.order_by("history_id").first()
        return reverse(f"admin:bureau_{model}_simple_history", args=[obj.pk, version.history_id])
    return reverse(f"admin:bureau_{model}_{view}", args=[obj.pk])


def login_as(client, users, role):
    if role != "anonymous":
        client.force_login(users[role])
    return client


def assert_status(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response.url.startswith(reverse("admin:login")), response.url
    elif expected == GONE:
        assert response.status_code == 302, response.status_code
        assert response.url == reverse("admin:index"), response.url
    else:
        assert response.status_code == expected


def change_form_data(response) -> dict:
    """The POST a browser would send for an unchanged change form: main form, inlines, management forms."""

    def fields(form):
        data = {}
        for bound in form:
            value = bound.value()
            if value is not None:
                data[bound.html_name] = value
        return data

    data = fields(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        data.update(fields(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(fields(form))
    return data


@pytest.mark.parametrize(("page", "role", "expected"), MATRIX)
def test_sec1_admin_role_matrix(client, users, org, page, role, expected):
    response = login_as(client, users, role).get(page_url(page, org))
    assert_status(response, expected)


# --- read-only roles: the change page renders without a save button, and a POST is refused ---------

VIEW_ONLY_PAGES = [
    ("auditor", "district change D2"),
    ("auditor", "cluster change C2"),
    ("auditor", "school change S3"),
    ("auditor", "teacher change T3"),
    ("auditor", "posting change P3"),
    ("auditor", "auditentry change first"),
    ("principal", "school change S1"),
    ("principal", "teacher change T1"),
    ("principal", "posting change P1"),
    ("district", "district change D1"),
    ("district", "cluster change C1"),
    ("bureau", "posting change P1"),
    ("bureau", "exportjob change job"),
]


@pytest.mark.parametrize(("role", "page"), VIEW_ONLY_PAGES)
def test_view_only_change_page_has_no_save_button(client, users, org, role, page):
    response = login_as(client, users, role).get(page_url(page, org))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()


@pytest.mark.parametrize(("role", "page"), VIEW_ONLY_PAGES)
def test_view_only_change_page_refuses_post(client, users, org, role, page):
    obj = org[page.split()[-1]]
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    response = login_as(client, users, role).post(page_url(page, org), {"name": "改名", "note": "改"})
    assert response.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize(
    "page", ["district add", "cluster add", "school add", "teacher add", "posting add", "profile add"]
)
def test_auditor_add_post_is_refused(client, users, org, page):
    before = (Teacher.objects.count(), School.objects.count())
    response = login_as(client, users, "auditor").post(page_url(page, org), {"name": "新建"})
    assert response.status_code == 403
    assert (Teacher.objects.count(), School.objects.count()) == before


@pytest.mark.parametrize("role", ["auditor", "principal"])
def test_read_only_role_cannot_revert_teacher_through_history_form(client, users, org, role):
    """simple_history's version page saves on POST; a role that may not change must be refused there."""
    t1 = org["T1"]
    t1.name = "张一新"
    t1.save()
    url = page_url("teacher version T1", org)  # the version from before the rename
    client = login_as(client, users, role)
    data = change_form_data(client.get(url))
    data["subject"] = "体育"
    response = client.post(url, data)
    assert response.status_code == 403
    t1.refresh_from_db()
    assert (t1.name, t1.subject) == ("张一新", "语文")


def test_district_user_cannot_edit_out_of_scope_teacher_through_history_form(client, users, org):
    """Seen by bureau: the form a browser would send for T3's version, with the school moved into D1."""
    url = page_url("teacher version T3", org)
    client.force_login(users["bureau"])
    data = change_form_data(client.get(url))
    data.update(name="被改", school=org["S1"].pk)
    client.force_login(users["district"])
    response = client.post(url, data)
    assert_status(response, GONE)
    t3 = Teacher.objects.get(pk=org["T3"].pk)
    assert (t3.name, t3.school_id) == ("王三", org["S3"].pk)


def test_district_can_restore_own_teacher_version(client, users, org):
    """The guard on the version page leaves the feature to those who may change the teacher."""
    t1 = org["T1"]
    t1.name = "张一新"
    t1.save()
    url = page_url("teacher version T1", org)
    client = login_as(client, users, "district")
    response = client.post(url, change_form_data(client.get(url)))
    assert response.status_code == 302
    t1.refresh_from_db()
    assert t1.name == "张一"


def test_out_of_scope_change_page_does_not_show_the_teacher(client, users, org):
    response = login_as(client, users, "district").get(page_url("teacher change T3", org), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "王三" not in html and "T3" not in html


# --- changelist scoping ---------------------------------------------------------------------------


def changelist_staff_nos(client, users, role):
    response = login_as(client, users, role).get(reverse("admin:bureau_teacher_changelist"))
    assert response.status_code == 200
    return {t.staff_no for t in response.context["cl"].result_list}, response.content.decode()


def test_district_user_lists_only_own_district_teachers(client, users, org):
    staff_nos, html = changelist_staff_nos(client, users, "district")
    assert staff_nos == {"T1", "T2"}
    assert "张一" in html and "李二" in html and "王三" not in html


def test_principal_sees_only_own_school_teachers(client, users, org):
    staff_nos, html = changelist_staff_nos(client, users, "principal")
    assert staff_nos == {"T1"}
    assert "张一" in html and "李二" not in html and "王三" not in html


def test_auditor_lists_every_teacher(client, users, org):
    staff_nos, html = changelist_staff_nos(client, users, "auditor")
    assert staff_nos == {"T1", "T2", "T3"}


def test_principal_school_changelist_lists_only_own_school(client, users, org):
    response = login_as(client, users, "principal").get(reverse("admin:bureau_school_changelist"))
    assert {s.code for s in response.context["cl"].result_list} == {"S1"}


def test_district_posting_changelist_lists_only_own_district(client, users, org):
    response = login_as(client, users, "district").get(reverse("admin:bureau_posting_changelist"))
    assert {p.teacher.staff_no for p in response.context["cl"].result_list} == {"T1", "T2"}


# --- smaller doors into the same rows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"), [("bureau", True), ("district", True), ("principal", False), ("auditor", False)]
)
def test_teacher_changelist_offers_import_only_to_roles_that_may_import(client, users, org, role, shown):
    response = login_as(client, users, role).get(reverse("admin:bureau_teacher_changelist"))
    assert (reverse("admin:bureau_teacher_import") in response.content.decode()) is shown


def test_school_changelist_hides_import_from_district(client, users, org):
    response = login_as(client, users, "district").get(reverse("admin:bureau_school_changelist"))
    assert reverse("admin:bureau_school_import") not in response.content.decode()


def test_school_autocomplete_is_scoped(client, users, org):
    """The cluster form's 牵头学校 search goes through the school admin's scoped queryset."""
    params = {"app_label": "bureau", "model_name": "cluster", "field_name": "lead_school", "term": ""}
    response = login_as(client, users, "district").get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert {r["text"] for r in response.json()["results"]} == {"东一小学（S1）", "东二小学（S2）"}
