from django.urls import path

from . import organise_views, share_views, views

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
    # tr15roles: organiser pages (project list + create, project hub, life-cycle steps)
    path("organise/projects/", organise_views.projects, name="organise-projects"),
    path("organise/projects/<int:pk>/", organise_views.project, name="organise-project"),
    path("organise/projects/<int:pk>/step/", organise_views.project_step, name="organise-project-step"),
]
