"""Settings shared by every mode; production and test differ by values only (CONVENTIONS habit 16).

Everything that changes between machines comes from the environment through one `env` object
(django-environ): https://django-environ.readthedocs.io/
"""

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    CELERY_BROKER_URL=(str, ""),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

# --- Core -------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# SEC-4: the development key printed here is used only with DEBUG on (`make demo` turns it on). Without
# DEBUG and without SECRET_KEY (a management command such as migrate or makemigrations), the process
# draws a random key of its own: nothing is ever signed with a public key. Servers run the production
# settings, which refuse to start without SECRET_KEY.
DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnop" if DEBUG else secrets.token_urlsafe(50)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
# A refused form gets a Chinese page (Django's own is English).
CSRF_FAILURE_VIEW = "bureau.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_ratelimit",
    "axes",
    "django_cas_ng",
    "csp",
    # OAuth2 client credentials for training providers (issue 19 item 1): the token endpoint /o/token/ only.
    "oauth2_provider",
    "bureau",
    "training",
    "credits",
    "exchange",
    "backbone",
    "province",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every page (SEC-5); the policy is CONTENT_SECURITY_POLICY below.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A GET on a POST-only page gets a Chinese 405 page (the API keeps its JSON answers).
    "bureau.middleware.ChineseNotAllowedMiddleware",
    # Records the acting user on django-simple-history rows made from admin requests.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a django-ratelimit refusal into RATELIMIT_VIEW's 429 (instead of a 403).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # django-axes: refuses a locked-out login (form, admin) before the view runs; keep it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bureau.context_processors.notices",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# Default: an SQLite file in the project folder (quick start); PostgreSQL in production and CI.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before any password is checked.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "bureau.auth.RoleAwareBackend"]
LOGIN_URL = "/accounts/login/"
# --- Sign-in through the bureau's identity provider (issue 19 item 3; bureau/sso.py, docs/decisions.md) ----
# Both off by default. Identities are matched to existing accounts (a teacher's 工号, else a username), never
# given a role; the one account made is a teacher's who has none yet. Local passwords stay unless
# LOCAL_LOGIN_ENABLED is false, which leaves the password form to superusers only.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# https://mozilla-django-oidc.readthedocs.io/en/stable/settings.html
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid profile")
# The claim holding a teacher's 工号: it must be unique and set by the provider, not editable by its users.
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", default="preferred_username")
# The provider's issuer (`issuer` of its discovery document): every id_token's `iss` must equal it (and its
# `aud` our client id); empty refuses every OIDC sign-in.
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_CREATE_USER = False  # bureau.sso matches; it never lets the library create accounts
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
# PKCE (RFC 7636, S256) on every authorization request: a stolen code is useless without the session's verifier.
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
# Single sign-out (RP-initiated logout): 退出 also ends the session at the provider's end_session endpoint,
# with the id_token kept in the session as id_token_hint (bureau.sso.oidc_logout_url). Empty: local sign-out.
OIDC_OP_LOGOUT_ENDPOINT = env("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_OP_LOGOUT_URL_METHOD = "bureau.sso.oidc_logout_url"
OIDC_STORE_ID_TOKEN = True
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=refused"
# https://djangocas.dev/docs/latest/configuration.html
CAS_ENABLED = env.bool("CAS_ENABLED", default=False)
CAS_SERVER_URL = env("CAS_SERVER_URL", default="")
CAS_VERSION = env("CAS_VERSION", default="3")
CAS_USERNAME_ATTRIBUTE = env("CAS_USERNAME_ATTRIBUTE", default="cas:user")
CAS_CREATE_USER = False
CAS_LOGIN_MSG = None
CAS_REDIRECT_URL = "/"
# Accounts that are not teachers sign in through the provider only when linked to the identity (Profile
# sso_issuer/sso_subject, set in the admin); true also matches the identity's name to a username, never of a
# superuser or staff account (is_staff: bureau, district, principal, auditor).
SSO_MATCH_USERNAME = env.bool("SSO_MATCH_USERNAME", default=False)
CAS_IGNORE_REFERER = True  # after sign-in go to ?next= or "/", never back to the page linking here (the login page)
# Single sign-out: 退出 also ends the CAS session (redirect to the server's /logout, back to the login page),
# and the server's back-channel logout POST (a SAML LogoutRequest naming the ticket) ends ours: django-cas-ng
# keeps each session's service ticket (SessionTicket) for that.
CAS_LOGOUT_COMPLETELY = True
CAS_LOGOUT_NEXT_PAGE = "/accounts/login/"
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("bureau.sso.OIDCBackend")
if CAS_ENABLED:
    AUTHENTICATION_BACKENDS.append("bureau.sso.CASSignInBackend")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Login lockout and client addresses (SEC-5) -----------------------------------------------
# Reverse proxies in front of the app that append to X-Forwarded-For (0: none, the header is ignored).
# Rate limits (django-ratelimit) and the login lockout (django-axes) key on the address the outermost
# trusted proxy reports (bureau.clientip). Set it only when the app is reachable through the proxies alone.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "bureau.clientip.client_ip"
# django-ipware is not installed, so axes's AXES_IPWARE_* settings would not apply: the same function instead.
AXES_CLIENT_IP_CALLABLE = "bureau.clientip.client_ip"
# 10 wrong passwords for one username from one address lock that pair out for 30 minutes
# (docs/decisions.md, issue 14); a successful login clears the count; `manage.py axes_reset` unlocks.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Sign-ins through the identity provider (no username) are neither counted nor locked (bureau.auth).
AXES_WHITELIST_CALLABLE = "bureau.auth.not_a_password_attempt"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Internationalisation ---------------------------------------------------------------------
# The UI speaks Chinese; code and logs are English (SPEC §1).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and storage (SCALE-1) -------------------------------------------------------
# Every file the product keeps goes through the storage API: a django-storages backend can replace
# the local folder by setting STORAGE_BACKEND, with no code change.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# The bureau's Ed25519 credential keys (issue 19 item 2): a file outside the database, made by
# `manage.py credential_key --rotate`; the demo keeps it under the gitignored var/ directory (left out of the
# Docker image by .dockerignore). Production has no default (config/settings/production.py).
CREDENTIAL_KEY_FILE = Path(env("CREDENTIAL_KEY_FILE", default=str(BASE_DIR / "var" / "credential-keys.json")))
CREDENTIAL_ISSUER_NAME = env("CREDENTIAL_ISSUER_NAME", default="市教育局")
# The site's public address as the issuer of every credential: issuer.id, the credential's id (/verify/<code>/),
# the status list's URL, the PDF's QR code. Never taken from a request's Host header. `check --deploy` wants https.
CREDENTIAL_ISSUER_URL = env("CREDENTIAL_ISSUER_URL", default="http://localhost:8000/")
# Development and tests serve static files straight from the app folders (no collectstatic needed);
# production turns both off and serves the collected, compressed files.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": env("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Uploads (SEC-2) --------------------------------------------------------------------------
# Spreadsheets larger than this are refused before they are opened; the uncompressed size and the
# compression ratio of the xlsx zip are checked too (zip bombs).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=400 * 1024 * 1024)
IMPORT_MAX_RATIO = env.int("IMPORT_MAX_RATIO", default=200)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=300_000)
# Cells in one row: the reader parses every cell, so a very wide file would take minutes (SEC-6).
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
# The reader (python-calamine) holds a sheet as a grid from A1 to its last cell: at most this many cells
# (about 32 bytes each), and at most this many parts in the archive (SEC-2).
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=6_000_000)
IMPORT_MAX_ENTRIES = env.int("IMPORT_MAX_ENTRIES", default=1000)
# Evidence of recognition claims (学时认定): PDF, JPEG or PNG by content, at most this size each.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Session only (SEC-5): no HTTP Basic, whose password checks would bypass the login lockout's page
    # and travel with every request.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Chinese page titles in the browsable API (bureau.apidocs.view_name)
    "VIEW_NAME_FUNCTION": "bureau.apidocs.view_name",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "教师发展平台 API",
    "DESCRIPTION": "市教育局教师发展平台的接口。登录后按账号的角色和可见范围返回数据；出错时 detail 给出中文原因。",
    # the docs' sections in Chinese (bureau.apidocs.chinese_tags renames each operation's tag to match)
    "TAGS": [
        {"name": "培训项目", "description": "正在报名和已开班的培训项目，按可见范围列出"},
        {"name": "培训报名", "description": "教师本人报名及按角色可见的报名记录"},
        {"name": "考核结果", "description": "培训项目的考核结果（优秀、合格、不合格、未完成）"},
        {"name": "学分登记", "description": "学分台账：每条登记的来源、学时与学分（只读）"},
        {"name": "教师学分概况", "description": "某位教师某年度的学分、学时与达标情况"},
        {"name": "交流轮岗", "description": "晋升前置条件自查：交流经历是否满足要求"},
        {"name": "机构数据推送", "description": "培训机构用 API 密钥或 OAuth2 访问令牌推送考核结果（JSON 或 xAPI 语句）"},
        {"name": "接口说明", "description": "本接口说明（OpenAPI 格式）本身"},
    ],
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- OAuth2 for training providers (issue 19 item 1, training.provider_api) ------------------------
# https://django-oauth-toolkit.readthedocs.io/en/latest/settings.html (django-oauth-toolkit 3.4)
# A provider's OAuth2 application (client credentials grant only, made by training.providers) gets an access
# token at /o/token/ and sends it as `Authorization: Bearer <token>` to the provider API. Tokens last an
# hour and are kept hashed (RFC 9700 token storage); no refresh tokens (client credentials issue none), no
# authorization code, implicit or password grant is routed.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named, so migrations can refer to it
OAUTH2_PROVIDER = {
    "SCOPES": {"records": "推送考核结果"},
    "DEFAULT_SCOPES": ["records"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("PROVIDER_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- Content security policy (SEC-5) ----------------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html (django-csp 4.0)
# Scripts and style sheets from this site only: no inline <script>, <style> or on* handlers (the charts,
# the report progress and confirmations are static files under static/js; Chart.js is vendored; Swagger UI
# comes from drf-spectacular-sidecar, started by a script file). No nonces: a signed-in user's page may be
# served from the page cache (bureau.pages), where a nonce would be stale. Style attributes stay allowed
# (style-src-attr): progress bars set their width from data, and an attribute cannot run script.
# data: images: the admin's and Swagger UI's style sheets embed small SVG icons that way.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Sign-in through the identity provider redirects there (after the logout form, too): allow its address.
_idp_urls = [OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_LOGOUT_ENDPOINT] if OIDC_ENABLED else []
for _url in filter(None, _idp_urls + ([CAS_SERVER_URL] if CAS_ENABLED else [])):
    _origin = "{0.scheme}://{0.netloc}".format(urlsplit(_url))
    if _origin not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]:
        CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(_origin)

# --- Cache ------------------------------------------------------------------------------------
# Shared Redis cache when REDIS_CACHE_URL is set (rate limits must be shared between web processes);
# the in-process cache otherwise (quick start, tests).
# Keys are prefixed by the release (bureau.release): nothing cached by one release is read by the next.
if env("REDIS_CACHE_URL", default=""):
    from bureau.release import release_id

    # django-redis: one client per connection pool, integers stored raw (atomic INCR for the version
    # counters in bureau.versions and django-ratelimit's counters). https://github.com/jazzband/django-redis
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": env("REDIS_CACHE_URL"),
                          "KEY_PREFIX": env("RELEASE", default="") or release_id(BASE_DIR)}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded demo database: SQLite cannot hold "one pending appeal per target" (a unique constraint
    # with NULLS NOT DISTINCT); the service checks it too, and PostgreSQL (production, CI) enforces it.
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "models.W047"]
RATELIMIT_VIEW = "bureau.views.rate_limited"
# Sessions read from the cache and written through to the database: one query less on every page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- E-mail (notices) ----------------------------------------------------------------------------
# Notices are always in the inbox; with EMAIL_HOST set they are also mailed to users with an address.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.locmem.EmailBackend"
)
NOTICE_EMAIL = bool(EMAIL_HOST)
# Training: approved trainees are reminded from this many days before a project starts (training.reminders).
TRAINING_REMINDER_DAYS = env.int("TRAINING_REMINDER_DAYS", default=3)

# --- Celery (see config/celery.py) ------------------------------------------------------------
# No broker configured: tasks run in-process (quick start). Redis in production and CI.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process was killed goes back to the queue instead of being acknowledged as failed,
# and Redis hands an unacknowledged task to another worker after the visibility timeout (longer than the
# longest report build). The sweeper (credits.tasks.sweep_reports) covers a worker lost between the two.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600)}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Logging ----------------------------------------------------------------------------------
# English, never personal data (SEC-3): log staff numbers, never ID-card numbers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "filters": {"mask_id_numbers": {"()": "bureau.logfilters.MaskIdNumbers"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_id_numbers"]},
        # runserver's request lines (Django's own django.server handler, plus the mask): a search such as
        # ?q=<ID number> would otherwise be written out whole. gunicorn's access log: gunicorn.conf.py.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["mask_id_numbers"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Their debug lines can carry request bodies (client secrets, tokens): never below WARNING.
        "oauthlib": {"level": "WARNING"},
        "oauth2_provider": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
