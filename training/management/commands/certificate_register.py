from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bureau.params import year_argument
from training.certificates import write_register


class Command(BaseCommand):
    help = "导出证书登记簿（工作表“证书”，每张曾发放的证书一行）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_argument, help="只导出该年度完成的证书")
        parser.add_argument("--output", required=True)

    def handle(self, *args, year, output, **options):
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        count = write_register(path, year=year)
        self.stdout.write(f"证书 {count} 张。已写出 {path}")
