"""SEC-4: `manage.py check --deploy` is clean with production settings; secrets come from the environment."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 30 + "-production-secret-from-the-environment-xyz",
        ALLOWED_HOSTS="teachers.example.gov.cn",
        CREDENTIAL_KEY_FILE="/data/keys/credential-keys.json",
        CREDENTIAL_ISSUER_URL="https://teachers.example.gov.cn/",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


DEV_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def test_base_settings_use_the_development_key_only_with_debug():
    """SEC-4: without DEBUG and without SECRET_KEY (a management command) the key is random per process,
    never the development key printed in the settings."""
    first = run_manage("shell", "-c", PRINT_KEY, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="false")
    second = run_manage("shell", "-c", PRINT_KEY, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="false")
    assert first.returncode == 0, first.stderr
    assert DEV_KEY not in first.stdout and first.stdout.strip() != second.stdout.strip()
    with_debug = run_manage("shell", "-c", PRINT_KEY, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true")
    assert DEV_KEY in with_debug.stdout
    debug = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true")
    assert debug.returncode == 0, debug.stdout + debug.stderr
    given = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="false",
                       SECRET_KEY="k" * 50)
    assert given.returncode == 0, given.stdout + given.stderr


def test_make_demo_runs_every_step_with_debug_on(tmp_path):
    """`make demo` (README quick start) has no SECRET_KEY: it must run its commands with DEBUG on.
    A stand-in python records the environment each step sees (the venv is taken as installed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "steps.log"
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\necho "DEBUG=$DEBUG $*" >> {log}\n')
    fake.chmod(0o755)
    (bin_dir / ".installed").touch()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(["make", "demo", f"BIN={bin_dir}"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = log.read_text().splitlines()
    assert [s.split()[2] for s in steps] == ["migrate", "seed_demo", "credential_key", "runserver"]
    assert all(s.startswith("DEBUG=true ") for s in steps)


PRINT_SSO = (
    "from django.conf import settings as s; "
    "print(s.OIDC_ENABLED, s.CAS_ENABLED, s.LOCAL_LOGIN_ENABLED); print(' '.join(s.AUTHENTICATION_BACKENDS)); "
    "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
)


def test_sign_in_through_identity_provider_is_off_by_default_and_switched_on_by_the_environment():
    """Issue 19 item 3: no OIDC/CAS backend and only 'self' in form-action unless switched on; switched on,
    the backends are added and the providers' origins allowed in form-action (where sign-in redirects)."""
    off = run_manage("shell", "-c", PRINT_SSO, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true")
    assert off.returncode == 0, off.stderr
    flags, backends, form_action = off.stdout.strip().splitlines()[-3:]
    assert flags == "False False True" and "sso" not in backends and form_action == "'self'"
    on = run_manage("shell", "-c", PRINT_SSO, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true",
                    OIDC_ENABLED="true", OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.example.edu.cn:8443/oauth2/authorize",
                    CAS_ENABLED="true", CAS_SERVER_URL="https://cas.example.edu.cn/cas/", LOCAL_LOGIN_ENABLED="false")
    assert on.returncode == 0, on.stderr
    flags, backends, form_action = on.stdout.strip().splitlines()[-3:]
    assert flags == "True True False"
    assert backends.split()[-2:] == ["bureau.sso.OIDCBackend", "bureau.sso.CASSignInBackend"]
    assert form_action == "'self' https://idp.example.edu.cn:8443 https://cas.example.edu.cn"


def test_pkce_on_by_default_and_the_end_session_origin_allowed_in_form_action():
    """Issue 19 item 3: PKCE (S256) unless OIDC_USE_PKCE=false; sign-out redirects to the end_session
    endpoint, so its origin joins form-action when it differs from the authorization endpoint's (once)."""
    show = ("from django.conf import settings as s; print(s.OIDC_USE_PKCE, s.OIDC_PKCE_CODE_CHALLENGE_METHOD); "
            "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))")
    env = dict(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true", OIDC_ENABLED="true",
               OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.example.edu.cn/oauth2/authorize")
    same = run_manage("shell", "-c", show, **env, OIDC_OP_LOGOUT_ENDPOINT="https://idp.example.edu.cn/oauth2/logout")
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip().splitlines()[-2:] == ["True S256", "'self' https://idp.example.edu.cn"]
    other = run_manage("shell", "-c", show, **env, OIDC_USE_PKCE="false",
                       OIDC_OP_LOGOUT_ENDPOINT="https://sso.example.edu.cn/logout")
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-2:] == [
        "False S256", "'self' https://idp.example.edu.cn https://sso.example.edu.cn"]


PRODUCTION = dict(DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="teachers.example.gov.cn",
                  SECRET_KEY="k" * 30 + "-production-secret-from-the-environment-xyz")


@pytest.mark.parametrize("key_file, issuer, complaint", [
    (None, "https://teachers.example.gov.cn/", "CREDENTIAL_KEY_FILE"),  # no default in production
    (str(ROOT / "var" / "credential-keys.json"), "https://teachers.example.gov.cn/", "CREDENTIAL_KEY_FILE"),  # in the image
    ("/data/keys/credential-keys.json", None, "CREDENTIAL_ISSUER_URL"),  # the development default
    ("/data/keys/credential-keys.json", "http://teachers.example.gov.cn/", "CREDENTIAL_ISSUER_URL"),
])
def test_deploy_check_wants_the_credential_key_outside_the_image_and_an_https_issuer(key_file, issuer, complaint):
    """Issue 19 item 2: the signing key is never baked into the image (/app is the code, read-only to the app
    user); the issuer URL in every credential is set, not taken from a request's Host header."""
    env = dict(PRODUCTION)
    if key_file:
        env["CREDENTIAL_KEY_FILE"] = key_file
    if issuer:
        env["CREDENTIAL_ISSUER_URL"] = issuer
    result = run_manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_without_a_key_file_signs_nothing_and_writes_nothing():
    """Without CREDENTIAL_KEY_FILE production has no key path at all: `credential_key --ensure` refuses
    instead of writing a key into the code directory."""
    result = run_manage("credential_key", "--ensure", **PRODUCTION)
    assert result.returncode != 0 and "CREDENTIAL_KEY_FILE" in result.stderr


def test_the_image_leaves_out_the_demo_key_and_compose_keeps_it_in_a_volume():
    import yaml

    ignored = {line.strip().strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert "var" in ignored
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    for name in ("web", "migrate"):
        service = compose["services"][name]
        key_dir = str(Path(service["environment"]["CREDENTIAL_KEY_FILE"]).parent)
        assert not key_dir.startswith("/app")
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts[key_dir] in compose["volumes"]  # a named volume, so a rotated key survives a rebuild
        assert service["environment"]["CREDENTIAL_ISSUER_URL"]
        assert f"chown app:app {key_dir}" in dockerfile or re.search(rf"chown [^\n]*app[^\n]* {key_dir}", dockerfile)
    assert "credential_key --ensure" in " ".join(compose["services"]["migrate"]["command"])
    for name in ("worker", "beat"):  # they sign nothing: no key
        assert "CREDENTIAL_KEY_FILE" not in compose["services"][name].get("environment", {})
