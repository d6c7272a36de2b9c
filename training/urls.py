from django.urls import path

from . import attendance_views, share_views, views

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
    # tr15att: sessions, attendance and results for the project's organiser
    path("organise/projects/<int:pk>/sessions/", attendance_views.sessions, name="sessions"),
    path("organise/sessions/<int:pk>/remove/", attendance_views.session_delete, name="session-remove"),
    path("organise/sessions/<int:pk>/attendance/", attendance_views.session_attendance, name="session-attendance"),
    path("organise/projects/<int:pk>/attendance/", attendance_views.attendance_overview, name="attendance-overview"),
    path("organise/projects/<int:pk>/results/", attendance_views.results_grid, name="results-grid"),
    path("organise/attendance/import/", attendance_views.attendance_import, name="attendance-import"),
    path("organise/results/import/", attendance_views.results_import, name="results-import"),
]
