"""(Re)issue a training provider's API key (issue 19 item 1): `manage.py provider_key --provider 名称`.
The key is printed once; only its hash is kept, and the previous key stops working."""

from django.core.management.base import BaseCommand, CommandError

from training.models import Provider
from training.providers import provider_key_issue


class Command(BaseCommand):
    help = "为培训机构签发（或重新签发）API 密钥；密钥只显示这一次。"

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, help="机构名称或编号")

    def handle(self, *args, provider, **options):
        found = Provider.objects.filter(name=provider).first()
        if found is None and provider.isdigit():
            found = Provider.objects.filter(pk=int(provider)).first()
        if found is None:
            raise CommandError(f"没有名为 {provider} 的培训机构。")
        key = provider_key_issue(provider=found, actor=None)
        self.stdout.write(f"{found.name} 的新 API 密钥（只显示这一次，请妥善转交）：\n{key}")
