from django.core.management.base import BaseCommand, CommandError

from training.credentials import CredentialKeyMissing, key_file, read_keys, rotate_key


class Command(BaseCommand):
    help = "证书凭证签名密钥（Ed25519）：--rotate 生成新密钥，旧密钥只留公钥继续发布；不带参数时列出密钥"

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="生成新密钥并设为当前密钥")
        parser.add_argument("--ensure", action="store_true", help="没有密钥文件时才生成（make demo 用）")

    def handle(self, *args, rotate, ensure, **options):
        if rotate or (ensure and not key_file().exists()):
            kid = rotate_key()
            self.stdout.write(f"新密钥 {kid} 已设为当前密钥（{key_file()}）。")
            return
        try:
            data = read_keys()
        except CredentialKeyMissing as exc:
            raise CommandError(f"密钥文件不存在：{key_file()}。请先运行 credential_key --rotate。") from exc
        for entry in data["keys"]:
            self.stdout.write(f"{entry['kid']} {'当前' if entry['kid'] == data['current'] else '已轮换（仅公钥）'}")
