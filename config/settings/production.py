"""Production: the same features as base, stricter values (SEC-4: `check --deploy` is clean)."""

from pathlib import Path

from bureau.release import release_id

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: refuse to start without one
# The credential signing key: no default, so it is never written into (or baked into) the image's /app;
# unset, credentials answer 503 and `check --deploy` fails (training/checks.py).
CREDENTIAL_KEY_FILE = Path(env("CREDENTIAL_KEY_FILE")) if env("CREDENTIAL_KEY_FILE", default="") else None

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("REDIS_CACHE_URL", default="redis://127.0.0.1:6379/1"),
        # nothing cached by one release (pickled users, rendered pages) is read by the next
        "KEY_PREFIX": env("RELEASE", default="") or release_id(BASE_DIR),
    }
}

WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Secure cookies unless explicitly turned off (only the loopback benchmark does that).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
