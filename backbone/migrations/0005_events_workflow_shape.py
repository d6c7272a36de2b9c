"""One workflow event shape (bureau.WorkflowEvent) for roster and application events: note becomes
reason (an application's longer notes are cut to 200 characters: the objection's full text stays on the
objection), the events gain from- and to-states, and the actions are named as the transitions are."""

from django.db import migrations, models

ENTRY_STATES = [("active", "有效"), ("revoked", "已撤销"), ("lapsed", "已到期")]
APPLICATION_STATES = [
    ("applied", "已申报"),
    ("recommended", "学校推荐"),
    ("not_recommended", "学校未推荐"),
    ("shortlisted", "评审入围"),
    ("not_selected", "未入选"),
    ("awarded", "已认定"),
]
# old action -> (new action, from-state, to-state)
ROSTER = {
    "awarded": ("award", "", "active"),
    "revoked": ("revoke", "active", "revoked"),
    "lapsed": ("lapse", "active", "lapsed"),
    "allowance_stopped": ("stop_allowance", "active", "active"),
}
APPLICATION = {
    "applied": ("apply", "", "applied"),
    "recommended": ("recommend", "applied", "recommended"),
    "not_recommended": ("not_recommend", "applied", "not_recommended"),
    "shortlisted": ("shortlist", "recommended", "shortlisted"),
    "not_selected": ("not_select", "recommended", "not_selected"),
    "awarded": ("award", "shortlisted", "awarded"),
}


def truncate_notes(apps, schema_editor):
    ApplicationEvent = apps.get_model("backbone", "ApplicationEvent")
    for event in ApplicationEvent.objects.filter(note__regex=r"^.{201,}$").only("pk", "note"):
        ApplicationEvent.objects.filter(pk=event.pk).update(note=event.note[:200])


def fill_states(apps, schema_editor):
    RosterEvent = apps.get_model("backbone", "RosterEvent")
    ApplicationEvent = apps.get_model("backbone", "ApplicationEvent")
    for old, (action, from_state, to_state) in ROSTER.items():
        RosterEvent.objects.filter(action=old).update(action=action, from_state=from_state, to_state=to_state)
    for old, (action, from_state, to_state) in APPLICATION.items():
        ApplicationEvent.objects.filter(action=old).update(action=action, from_state=from_state, to_state=to_state)
    # An objection leaves the application's state as it was: the candidate's state during the notice.
    for event in ApplicationEvent.objects.filter(to_state="").select_related("application"):
        status = event.application.status
        ApplicationEvent.objects.filter(pk=event.pk).update(from_state=status, to_state=status)


class Migration(migrations.Migration):
    dependencies = [("backbone", "0004_rosterentry_certificate")]

    operations = [
        migrations.RunPython(truncate_notes, migrations.RunPython.noop),
        migrations.RenameField(model_name="rosterevent", old_name="note", new_name="reason"),
        migrations.RenameField(model_name="applicationevent", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="applicationevent",
            name="reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="说明"),
        ),
        migrations.AlterField(
            model_name="rosterevent",
            name="action",
            field=models.CharField(max_length=32, verbose_name="操作"),
        ),
        migrations.AlterField(
            model_name="applicationevent",
            name="action",
            field=models.CharField(max_length=32, verbose_name="操作"),
        ),
        migrations.AddField(
            model_name="rosterevent",
            name="from_state",
            field=models.CharField(blank=True, choices=ENTRY_STATES, max_length=16, verbose_name="原状态"),
        ),
        migrations.AddField(
            model_name="rosterevent",
            name="to_state",
            field=models.CharField(choices=ENTRY_STATES, default="", max_length=16, verbose_name="新状态"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="applicationevent",
            name="from_state",
            field=models.CharField(blank=True, choices=APPLICATION_STATES, max_length=16, verbose_name="原状态"),
        ),
        migrations.AddField(
            model_name="applicationevent",
            name="to_state",
            field=models.CharField(choices=APPLICATION_STATES, default="", max_length=16, verbose_name="新状态"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_states, migrations.RunPython.noop),
    ]
