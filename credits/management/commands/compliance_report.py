from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bureau.params import year_argument
from credits.compliance import ComplianceRun
from credits.exports import write_compliance_workbook
from credits.selectors import closed_report


class Command(BaseCommand):
    help = "生成年度学分达标工作簿（SPEC §7：汇总、区县、学校、教师）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_argument, required=True, help="年度")
        parser.add_argument("--output", required=True, help="输出的 xlsx 文件路径")
        parser.add_argument("--live", action="store_true", help="已关账年度也按当前数据重新计算（默认输出关账时冻结的工作簿）")

    def handle(self, *args, year, output, live, **options):
        if not 2000 <= year <= 2100:
            raise CommandError("年度应为四位数字，如 2026。")
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        closed = closed_report(year)
        if closed is not None and closed.workbook and not live:
            # CR-9: a closed year's report is the frozen snapshot, as the web download serves it.
            with closed.workbook.open("rb") as frozen, path.open("wb") as target:
                target.write(frozen.read())
            self.stdout.write(f"{year} 年度已关账：输出关账时冻结的工作簿（用 --live 按当前数据重新计算）。已写出 {path}")
            return
        with ComplianceRun(year) as run:
            write_compliance_workbook(path, run)
            summary = run.summary()
        self.stdout.write(
            f"{year} 年度：应考核 {summary.subject} 人，达标 {summary.compliant} 人，预警学校 {summary.flagged} 所。已写出 {path}"
        )
