from django.urls import path

from . import share_views, views

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
]
