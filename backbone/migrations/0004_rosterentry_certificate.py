"""The roster entry points to its title certificate (backbone is above training; no link goes back up).

Links are copied from training's old Certificate.roster_entry before training 0004 drops that field.
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_links(apps, schema_editor):
    Certificate = apps.get_model("training", "Certificate")
    RosterEntry = apps.get_model("backbone", "RosterEntry")
    # The valid certificate of a title, else its latest one.
    for certificate in Certificate.objects.filter(roster_entry__isnull=False).order_by("roster_entry_id", "-status", "-issued_at"):
        RosterEntry.objects.filter(pk=certificate.roster_entry_id, certificate__isnull=True).update(certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("backbone", "0003_schedules"), ("training", "0003_ledger_project_codes")]
    run_before = [("training", "0004_remove_certificate_roster_entry")]
    operations = [
        migrations.AddField(
            model_name="rosterentry",
            name="certificate",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                       related_name="backbone_title", to="training.certificate", verbose_name="称号证书"),
        ),
        migrations.RunPython(copy_links, migrations.RunPython.noop),
    ]
