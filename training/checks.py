"""Deployment checks of the credential settings (issue 19 item 2): `manage.py check --deploy` fails when the
signing key would live in the code directory (the image) or the issuer address is not the public https one."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def credential_settings(app_configs, **kwargs):
    errors = []
    key_file = settings.CREDENTIAL_KEY_FILE
    base_dir = Path(settings.BASE_DIR).resolve()
    if not key_file:
        errors.append(Error(
            "CREDENTIAL_KEY_FILE 未设置：证书凭证没有签名密钥。",
            hint="指向镜像之外、可写的持久位置（如 docker-compose.yml 的 credential-keys 卷 /data/keys/credential-keys.json），"
                 "再运行 manage.py credential_key --ensure。",
            id="training.E001"))
    elif Path(key_file).resolve().is_relative_to(base_dir):
        errors.append(Error(
            f"CREDENTIAL_KEY_FILE（{key_file}）在代码目录 {base_dir} 之内：密钥会进镜像或随代码分发。",
            hint="改为代码目录之外的持久位置（卷或密钥挂载）。", id="training.E002"))
    issuer = settings.CREDENTIAL_ISSUER_URL or ""
    if not issuer.startswith("https://") or "localhost" in issuer or "127.0.0.1" in issuer:
        errors.append(Error(
            f"CREDENTIAL_ISSUER_URL（{issuer or '空'}）不是本站对外的 https 地址：它写进每张证书凭证，签发后不能再改。",
            hint="设为公开访问地址，如 https://teachers.example.gov.cn/。", id="training.E003"))
    return errors
