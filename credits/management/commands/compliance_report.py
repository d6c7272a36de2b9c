from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from credits.compliance import ComplianceRun
from credits.exports import write_compliance_workbook


class Command(BaseCommand):
    help = "生成年度学分达标工作簿（SPEC §7：汇总、区县、学校、教师）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度")
        parser.add_argument("--output", required=True, help="输出的 xlsx 文件路径")

    def handle(self, *args, year, output, **options):
        if not 2000 <= year <= 2100:
            raise CommandError("年度应为四位数字，如 2026。")
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        with ComplianceRun(year) as run:
            write_compliance_workbook(path, run)
            summary = run.summary()
        self.stdout.write(
            f"{year} 年度：应考核 {summary.subject} 人，达标 {summary.compliant} 人，预警学校 {summary.flagged} 所。已写出 {path}"
        )
