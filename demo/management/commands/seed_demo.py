from django.core.management.base import BaseCommand
from django.utils import timezone

from bureau.auth import all_users_changed
from bureau.models import School
from credits.models import ReportKind
from credits.reports import report_build, report_start
from credits.selectors import forget_policies
from demo.backbone import build_demo_backbone
from demo.city import DISTRICTS, build_demo_city, export_roster
from demo.motion import build_demo_motion
from demo.reset import is_demo_database, reset_demo_data
from demo.training import build_demo_training


class Command(BaseCommand):
    help = "生成演示城市（区县、片区、各学段学校、教师与演示账号）"

    def add_arguments(self, parser):
        parser.add_argument("--teachers", type=int, default=2000, help="教师人数（默认 2000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同城市")
        parser.add_argument("--password", default="demo-pass-2026", help="演示账号的密码")
        parser.add_argument("--export", metavar="DIR", help="另将名册写出为 DIR/schools.xlsx 与 DIR/teachers.xlsx")

    def handle(self, *args, teachers, seed, password, export, **options):
        seeded = False
        demo_again = School.objects.exists() and is_demo_database({code for code, _, _ in DISTRICTS})
        if demo_again:
            # The same database, made by seed_demo before: empty it and make the city again (demo/reset.py).
            reset_demo_data()
            self.stdout.write("数据库中已有演示数据：已清空，重新生成演示城市。")
        if School.objects.exists():
            # Anything but the demo city is never erased: only the roster export below runs.
            self.stdout.write("数据库中已有学校数据，跳过生成演示城市。")
        else:
            today = timezone.localdate()
            result = build_demo_city(teachers=teachers, seed=seed, today=today, password=password)
            seeded = True
            training = build_demo_training(seed=seed, today=today)
            titles = build_demo_backbone(seed=seed, today=today)
            self.stdout.write(
                f"已生成演示城市：{result.districts} 个区县，{result.schools} 所学校，{result.teachers} 名教师；"
                f"{training['projects']} 个培训项目，{training['results']} 条考核结果，{training['ledger']} 条学分登记；"
                f"骨干教师名册 {titles} 条。"
            )

            for year in (today.year - 1, today.year):
                report_build(report_id=report_start(year=year, kind=ReportKind.LIVE, actor=None).pk)
            motion = build_demo_motion(today=today)
            self.stdout.write(
                f"进行中的工作：{today.year} 年度交流轮岗计划（{motion['proposals']} 条交流人选），"
                f"县级骨干教师评选公示（{motion['applications']} 人申报、1 条异议），"
                f"学时认定申请 {motion['claims']} 条（各审核环节），消息 {motion['notices']} 条。"
            )
            # The city was written in bulk (no signals): a cache kept from an earlier database (same ids)
            # must not serve its users or pages.

            all_users_changed()
            forget_policies()
            self.stdout.write("演示账号（仅用于本机试用）：")
            for label, username, pwd in result.logins:
                self.stdout.write(f"  {label:<8} 用户名 {username:<10} 密码 {pwd}")
        if export:
            # SEC-3: full ID-card numbers only for the demo city just made; an existing roster is
            # written with the column left blank (a blank cell never erases a number on re-import).
            paths = export_roster(export, with_id_numbers=seeded)
            self.stdout.write(f"名册已写出：{paths[0]}，{paths[1]}")
