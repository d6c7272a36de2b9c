from bureau.management.importcommand import ImportCommand
from training.imports import ResultImporter


class Command(ImportCommand):
    help = "导入考核结果 results.xlsx（SPEC §7），按 CR-1/CR-2 登记学分"
    importer_class = ResultImporter
