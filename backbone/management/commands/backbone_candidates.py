from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backbone.exports import write_candidates
from backbone.models import Tier, Type
from backbone.selectors import candidates
from bureau.params import year_argument


class Command(BaseCommand):
    help = "列出某年度某层级某类别骨干教师的符合条件人选（SPEC §6 BB-2）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_argument, required=True)
        parser.add_argument("--tier", required=True, help="层级：" + "、".join(Tier.values))
        parser.add_argument("--type", required=True, dest="type_", help="类别：" + "、".join(Type.values))
        parser.add_argument("--output", required=True)

    def handle(self, *args, year, tier, type_, output, **options):
        if tier not in Tier.values:
            raise CommandError(f"层级应为：{'、'.join(Tier.values)}")
        if type_ not in Type.values:
            raise CommandError(f"类别应为：{'、'.join(Type.values)}")
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        rows = candidates(year=year, tier=tier, type_=type_)
        write_candidates(path, rows)
        self.stdout.write(f"{year} 年{tier}{type_}：符合条件 {len(rows)} 人。已写出 {path}")
