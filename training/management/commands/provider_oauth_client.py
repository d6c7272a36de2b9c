"""(Re)issue a training provider's OAuth2 client credentials (issue 19 item 1):
`manage.py provider_oauth_client --provider 名称`. The client secret is printed once (only its hash is kept);
a previous client and its access tokens stop working. `--revoke` withdraws the client instead."""

from django.core.management.base import BaseCommand, CommandError

from training.models import Provider
from training.providers import provider_oauth_client_issue, provider_oauth_client_revoke


class Command(BaseCommand):
    help = "为培训机构签发（或重新签发）OAuth2 客户端凭据；client_secret 只显示这一次。"

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, help="机构名称或编号")
        parser.add_argument("--revoke", action="store_true", help="吊销该机构的 OAuth2 客户端（访问令牌随即失效）")

    def handle(self, *args, provider, revoke, **options):
        found = Provider.objects.filter(name=provider).first()
        if found is None and provider.isdigit():
            found = Provider.objects.filter(pk=int(provider)).first()
        if found is None:
            raise CommandError(f"没有名为 {provider} 的培训机构。")
        if revoke:
            gone = provider_oauth_client_revoke(provider=found, actor=None)
            self.stdout.write(f"{found.name}：{'已吊销 OAuth2 客户端' if gone else '没有 OAuth2 客户端'}。")
            return
        client_id, secret = provider_oauth_client_issue(provider=found, actor=None)
        self.stdout.write(f"{found.name} 的 OAuth2 客户端凭据（client_secret 只显示这一次，请妥善转交）：\n"
                          f"client_id: {client_id}\nclient_secret: {secret}\n令牌地址：/o/token/（grant_type=client_credentials）")
