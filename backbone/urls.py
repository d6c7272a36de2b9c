from django.urls import path

from . import manage_views, roster_views, views

app_name = "backbone"
urlpatterns = [
    path("backbone/", views.rounds, name="rounds"),
    path("backbone/rounds/<int:pk>/apply/", views.apply, name="apply"),
    path("backbone/school/", views.school, name="school"),
    path("backbone/applications/<int:pk>/recommend/", views.recommend, name="recommend"),
    path("backbone/notice/<int:pk>/", views.notice, name="notice"),
    path("backbone/notice/<int:pk>/objection/", views.notice_objection, name="notice-objection"),
    path("backbone/plan/", views.plan, name="plan"),
    path("backbone/manage/", manage_views.manage, name="manage"),
    path("backbone/manage/<int:pk>/", manage_views.manage_round, name="manage-round"),
    path("backbone/manage/<int:pk>/notice/", manage_views.round_notice, name="round-notice"),
    path("backbone/manage/<int:pk>/review/", manage_views.round_review, name="round-review"),
    path("backbone/manage/<int:pk>/scores/", manage_views.round_scores, name="round-scores"),
    path("backbone/manage/<int:pk>/scores/import/", manage_views.round_scores_import, name="round-scores-import"),
    path("backbone/manage/<int:pk>/shortlist/", manage_views.round_shortlist, name="round-shortlist"),
    path("backbone/manage/<int:pk>/objections/", manage_views.objection_record, name="round-objection"),
    path("backbone/manage/<int:pk>/award/", manage_views.round_award, name="round-award"),
    path("backbone/manage/objections/<int:pk>/resolve/", manage_views.objection_resolve, name="objection-resolve"),
    path("backbone/manage/applications/<int:pk>/assess/", manage_views.trainee_assess, name="trainee-assess"),
]
urlpatterns += [path("backbone/roster/", roster_views.roster, name="roster")]
