import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.credentials import public_jwks, verify_token


def verify_files(credential: Path, *, jwks: Path | None = None, status: Path | None = None):
    """Check a credential file against a JWKS file (default: this installation's key file) and a status list
    file: no database, no server."""
    return verify_token(Path(credential).read_text(), jwks=json.loads(Path(jwks).read_text()) if jwks else public_jwks(),
                        status_token=Path(status).read_text() if status else None)


class Command(BaseCommand):
    help = "离线验证证书凭证文件（签名、有效期，及给出状态列表时的撤销状态）"
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="凭证文件（.jwt）")
        parser.add_argument("--jwks", type=Path, help="公钥集文件（/.well-known/jwks.json 下载的）")
        parser.add_argument("--status", type=Path, help="最近下载的状态列表（/credentials/status/1）")

    def handle(self, *args, file, jwks, status, **options):
        for path in (file, jwks, status):
            if path is not None and not path.exists():
                raise CommandError(f"文件不存在：{path}")
        result = verify_files(file, jwks=jwks, status=status)
        for note in result.notes:
            self.stdout.write(note)
        if not result.ok:
            raise CommandError("验证未通过：" + "；".join(result.errors))
        credential = result.credential
        self.stdout.write(f"验证通过：{credential.get('name')}（{credential['id']}），签名密钥 {result.kid}。")
