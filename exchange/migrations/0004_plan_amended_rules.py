"""EX-1/EX-2 amended (issue 15): plans opened before keep the first reading; new plans read as amended."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0003_sec6_control_characters"),
    ]

    operations = [
        # Existing plans get False (the reading they were opened under), then new plans default to True.
        migrations.AddField(
            model_name="exchangeplan",
            name="amended_rules",
            field=models.BooleanField(default=False, verbose_name="按修订后的规则测算"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="exchangeplan",
            name="amended_rules",
            field=models.BooleanField(
                default=True,
                help_text="修订后：年龄上限含本数；自上次交流结束起满6年方再列入，交流期间不列入；仅超编学校列出学科富余教师。"
                "修订前发起的计划沿用原规则（年龄上限不含本数）。",
                verbose_name="按修订后的规则测算",
            ),
        ),
        migrations.AlterField(
            model_name="exchangeplan",
            name="male_age_limit",
            field=models.PositiveSmallIntegerField(default=55, verbose_name="男教师年龄上限（周岁）"),
        ),
        migrations.AlterField(
            model_name="exchangeplan",
            name="female_age_limit",
            field=models.PositiveSmallIntegerField(default=50, verbose_name="女教师年龄上限（周岁）"),
        ),
    ]
