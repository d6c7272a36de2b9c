from bureau.management.importcommand import ImportCommand
from training.imports import AttendanceImporter
from training.organisers import may_create_projects


class Command(ImportCommand):
    help = "导入考勤（项目编号、工号、姓名、日期、出勤 是/否）；--by 的账号只能导入其主办项目的考勤"
    importer_class = AttendanceImporter
    may_import = staticmethod(may_create_projects)
