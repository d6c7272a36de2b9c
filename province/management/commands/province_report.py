from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bureau.params import year_argument
from bureau.services import ApplicationError
from credits.compliance import ComplianceRun
from province.exports import write_province_workbook
from province.services import id_numbers_release


class Command(BaseCommand):
    help = "生成上报省厅报表（SPEC §7：教师、项目、覆盖、交流、骨干）；身份证号默认脱敏"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=year_argument, required=True, help="年度")
        parser.add_argument("--output", required=True, help="输出的 xlsx 文件路径")
        parser.add_argument("--with-id-numbers", action="store_true",
                            help="写出完整身份证号（须同时用 --user 指定持有“可查看完整身份证号”权限的市教育局用户，记入审计日志）")
        parser.add_argument("--user", help="发起导出的用户名")

    def handle(self, *args, year, output, with_id_numbers, user, **options):
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"用户不存在或已停用：{user}")
        if with_id_numbers:
            if actor is None:
                raise CommandError("--with-id-numbers 须同时用 --user 指定发起导出的用户。")
            try:
                # SEC-3: refused unless the user may see the numbers; the audit row says who asked.
                id_numbers_release(year=year, actor=actor, target=f"command:{path.name}")
            except ApplicationError as exc:
                raise CommandError(str(exc)) from None
        with ComplianceRun(year) as run:
            write_province_workbook(path, run, full_id_numbers=with_id_numbers)
            teachers = run.teacher_count()
        shown = "完整身份证号" if with_id_numbers else "身份证号已脱敏"
        self.stdout.write(f"{year} 年度上报省厅报表：教师 {teachers} 人（{shown}）。已写出 {path}")
