from django import forms

from .models import HoursSubmission


class HoursSubmissionForm(forms.ModelForm):
    class Meta:
        model = HoursSubmission
        fields = ["kind", "title", "studied_on", "hours", "theme", "evidence"]
        widgets = {
            "studied_on": forms.DateInput(attrs={"type": "date"}),
            "evidence": forms.Textarea(attrs={"rows": 3, "placeholder": "如：教研活动记录、听课记录、学习笔记等"}),
        }


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "通过"), ("reject", "退回")])
    note = forms.CharField(label="意见", required=False, max_length=200)
