from django.urls import path

from . import views

app_name = "credits"
urlpatterns = [
    path("portal/", views.portal_home, name="portal"),
    path("portal/transcript/", views.transcript, name="transcript"),
    path("portal/transcript.xlsx", views.transcript_xlsx, name="transcript-xlsx"),
    path("portal/hours/", views.hours, name="hours"),
    path("school/hours/", views.school_hours, name="school-hours"),
    path("school/hours/<int:pk>/decide/", views.school_hours_decide, name="school-hours-decide"),
]
