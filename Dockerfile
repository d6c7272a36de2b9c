# Production-like image: the same code runs as web (gunicorn), Celery worker and Celery beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir --require-hashes -r requirements-prod.lock && pip install --no-cache-dir --no-deps . && pip check && useradd --create-home app \
    && mkdir -p /data/keys /data/media && chown app:app /data/keys /data/media && chmod 700 /data/keys
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput
# /app (the code) is not writable by the app user: the credential key lives in /data/keys, a volume
# (docker-compose.yml), created owned by app so `credential_key --rotate` can write it.
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
