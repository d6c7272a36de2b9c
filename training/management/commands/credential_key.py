from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from training.credentials import CredentialKeyMissing, KeyRevokeRefused, key_file, read_keys, revoke_key, rotate_key


class Command(BaseCommand):
    help = ("证书凭证签名密钥（Ed25519）：--rotate 生成新密钥，旧密钥只留公钥继续发布；--revoke KID 从公钥集撤回"
            "一把已轮换的旧密钥（它签发的凭证从此验证不通过）；不带参数时列出密钥")

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rotate", action="store_true", help="生成新密钥并设为当前密钥")
        action.add_argument("--ensure", action="store_true", help="没有密钥文件时才生成（make demo、docker compose 用）")
        action.add_argument("--revoke", metavar="KID", help="从公钥集撤回一把已轮换的旧密钥（不能是当前签名密钥）")

    def handle(self, *args, rotate, ensure, revoke, **options):
        if not settings.CREDENTIAL_KEY_FILE:
            raise CommandError("未设置 CREDENTIAL_KEY_FILE：生产环境须指定镜像之外的密钥文件路径（见 README）。")
        if rotate or (ensure and not key_file().exists()):
            kid = rotate_key()
            self.stdout.write(f"新密钥 {kid} 已设为当前密钥（{key_file()}）。")
            return
        try:
            if revoke:
                revoke_key(revoke)
                self.stdout.write(f"密钥 {revoke} 已从公钥集撤回：它签发的凭证从此验证不通过。")
                return
            data = read_keys()
        except CredentialKeyMissing as exc:
            raise CommandError(f"密钥文件不存在：{key_file()}。请先运行 credential_key --rotate。") from exc
        except KeyRevokeRefused as exc:
            raise CommandError(str(exc)) from exc
        for entry in data["keys"]:
            self.stdout.write(f"{entry['kid']} {'当前' if entry['kid'] == data['current'] else '已轮换（仅公钥）'}")
