from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider.views import RevokeTokenView

from bureau import apidocs, export_views, landing, notices, sso, views
from training import certificate_views, credential_views
from training.provider_api import ProviderTokenView

handler400 = "bureau.views.bad_request"

admin.site.site_header = "教师发展平台 · 管理后台"
admin.site.site_title = "教师发展平台"
admin.site.index_title = "市教育局教师发展管理"

urlpatterns = [
    path("", landing.home, name="home"),
    path("guide/<slug:role>/", landing.guide, name="guide"),
    path("verify/", certificate_views.verify_lookup, name="verify-lookup"),
    path("healthz", views.healthz, name="healthz"),
    path("verify/<str:code>/", certificate_views.verify, name="verify"),
    path("verify/<str:code>/credential.jwt", certificate_views.verify_credential, name="verify-credential"),
    path("portal/certificates/", certificate_views.my_certificates, name="my-certificates"),
    path("certificates/<str:code>.pdf", certificate_views.certificate_pdf, name="certificate-pdf"),
    path("certificates/<str:code>.jwt", credential_views.certificate_credential, name="certificate-credential"),
    path(".well-known/jwks.json", credential_views.jwks, name="credential-jwks"),
    path("credentials/status/<int:list_id>", credential_views.status_list, name="credential-status"),
    path("credentials/verify/", credential_views.verify_upload, name="credential-verify"),
    path("reports/certificates.xlsx", certificate_views.certificate_register, name="certificate-register"),
    path("notices/", notices.inbox, name="notices"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/<int:pk>/", export_views.export_detail, name="export-detail"),
    path("exports/<int:pk>/progress.json", export_views.export_progress, name="export-progress"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export-download"),
    path("notices/<int:pk>/read/", notices.mark_read, name="notice-read"),
    path("accounts/login/", sso.SignInView.as_view(), name="login"),
    # Sign-in through the bureau's identity provider (bureau/sso.py): 404 unless OIDC_ENABLED / CAS_ENABLED.
    path("oidc/authenticate/", sso.OIDCAuthenticateView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso.OIDCCallbackView.as_view(), name="oidc_authentication_callback"),
    path("cas/login/", sso.CASLoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # OAuth2 for training providers (issue 19 item 1): client credentials in, access token out; no other flow.
    path("o/token/", ProviderTokenView.as_view(), name="oauth2-token"),
    path("o/revoke_token/", RevokeTokenView.as_view(), name="oauth2-revoke-token"),
    path("", include("credits.urls")),
    path("", include("credits.claims_urls")),
    path("", include("training.urls")),
    path("", include("exchange.urls")),
    path("", include("backbone.urls")),
    path("", include("province.urls")),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(custom_settings=apidocs.SCHEMA_SETTINGS), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the content security policy allows no inline script.
    # Anonymous visitors are asked to log in (and come back here) rather than told they have no permission.
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
]
