from django.urls import path

from . import appeal_views, attendance_views, enrolment_views, organise_views, provider_views, share_views, views

app_name = "training"
urlpatterns = [
    # issue 19 item 1: provider records held for review (bureau staff)
    path("providers/held/", provider_views.provider_held, name="provider-held"),
    path("providers/records/<int:pk>/decide/", provider_views.provider_record_decide, name="provider-record-decide"),
    path("portal/projects/", views.projects, name="projects"),
    path("portal/projects/<int:pk>/apply/", views.apply, name="apply"),
    path("portal/enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("portal/projects/<int:pk>/survey/<str:kind>/", views.survey, name="survey"),
    path("school/enrolments/", views.school_enrolments, name="school-enrolments"),
    path("school/enrolments/<int:pk>/decide/", views.school_enrolment_decide, name="school-enrolment-decide"),
    path("school/nominate/", views.school_nominate, name="school-nominate"),
    path("projects/<int:pk>/shares/", share_views.shares, name="shares"),
    # --- tr15enrol: the enrolment chain (organiser page, bulk steps, calendar file, roster) ---
    path("organise/enrolments/", enrolment_views.organise_enrolments, name="organise-enrolments"),
    path("organise/enrolments/bulk/", enrolment_views.organise_enrolments_bulk, name="organise-enrolments-bulk"),
    path("organise/projects/<int:pk>/roster.xlsx", enrolment_views.project_roster, name="project-roster"),
    path("school/enrolments/bulk/", enrolment_views.school_enrolments_bulk, name="school-enrolments-bulk"),
    path("school/nominate/bulk/", enrolment_views.school_nominate_bulk, name="school-nominate-bulk"),
    path("portal/enrolments/<int:pk>/calendar.ics", enrolment_views.calendar_file, name="enrolment-calendar"),
    # tr15att: sessions, attendance and results for the project's organiser
    path("organise/projects/<int:pk>/sessions/", attendance_views.sessions, name="sessions"),
    path("organise/sessions/<int:pk>/remove/", attendance_views.session_delete, name="session-remove"),
    path("organise/sessions/<int:pk>/attendance/", attendance_views.session_attendance, name="session-attendance"),
    path("organise/projects/<int:pk>/attendance/", attendance_views.attendance_overview, name="attendance-overview"),
    path("organise/projects/<int:pk>/results/", attendance_views.results_grid, name="results-grid"),
    path("organise/attendance/import/", attendance_views.attendance_import, name="attendance-import"),
    path("organise/results/import/", attendance_views.results_import, name="results-import"),
    # tr15roles: organiser pages (project list + create, project hub, life-cycle steps)
    path("organise/projects/", organise_views.projects, name="organise-projects"),
    path("organise/projects/<int:pk>/", organise_views.project, name="organise-project"),
    path("organise/projects/<int:pk>/step/", organise_views.project_step, name="organise-project-step"),
    # cr12: appeals (申诉)
    path("portal/appeals/", appeal_views.my_appeals, name="appeals-mine"),
    path("portal/appeals/<int:pk>/withdraw/", appeal_views.withdraw, name="appeal-withdraw"),
    path("appeals/", appeal_views.queue, name="appeals-queue"),
    path("appeals/<int:pk>/", appeal_views.decide, name="appeal-decide"),
    path("appeals/report/", appeal_views.report, name="appeals-report"),
    path("appeals/report.xlsx", appeal_views.report_xlsx, name="appeals-report-xlsx"),
]
