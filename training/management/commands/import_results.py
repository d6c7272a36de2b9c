from bureau.management.importcommand import ImportCommand
from training.imports import ResultImporter
from training.organisers import may_create_projects


class Command(ImportCommand):
    help = "导入考核结果 results.xlsx（SPEC §7），按 CR-1/CR-2 登记学分；--by 的账号只能导入其主办项目的结果"
    importer_class = ResultImporter
    # Principals organise their school's 校本 projects: the importer keeps every account to its own projects.
    may_import = staticmethod(may_create_projects)
