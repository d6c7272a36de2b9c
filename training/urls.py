from django.urls import path

from . import enrolment_views, share_views, views

app_name = "training"
urlpatterns = [
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
]
