from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bureau.params import year_argument
from exchange.exports import write_exchange_workbook
from exchange.models import ExchangePlan
from exchange.rules import ExchangeRules
from exchange.selectors import eligible_teachers, school_quotas


class Command(BaseCommand):
    help = "生成交流轮岗工作簿（SPEC §7：学校指标、应交流教师）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_argument, required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args, year, output, **options):
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        plan = ExchangePlan.objects.filter(year=year).first()
        rules = plan.rules() if plan else ExchangeRules()
        eligible = eligible_teachers(year, rules)
        quotas = school_quotas(year, rules, eligible)
        write_exchange_workbook(path, quotas=quotas, eligible=eligible, year=year)
        self.stdout.write(
            f"{year} 年度：应交流教师 {len(eligible)} 人，最低交流 {sum(q.minimum for q in quotas)} 人。已写出 {path}"
        )
