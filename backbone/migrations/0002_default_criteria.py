"""BB-2 defaults from the sources, for every tier of each type; bureau staff edit them afterwards."""

from django.db import migrations

DEFAULTS = {
    "教学名师": {"min_title": "高级教师", "min_education": "本科", "max_age": None, "min_teaching_years": 10},
    "学科带头人": {"min_title": "一级教师", "min_education": "本科", "max_age": 45, "min_teaching_years": 8},
    "骨干教师": {"min_title": "二级教师", "min_education": "", "max_age": 45, "min_teaching_years": 5},
}


def create(apps, schema_editor):
    Criterion = apps.get_model("backbone", "Criterion")
    for tier in ("县级", "市级", "省级"):
        for type_, values in DEFAULTS.items():
            Criterion.objects.get_or_create(tier=tier, type=type_, defaults=values)


class Migration(migrations.Migration):
    dependencies = [("backbone", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
