"""Forms of the staff round pages: opening a round with its quotas (BB-3)."""

from __future__ import annotations

import datetime as dt

from django import forms

from bureau.choices import Role
from bureau.scoping import role_of, visible_districts

from .models import Tier, Type

QUOTA_ROWS = 4


class RoundOpenForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    tier = forms.ChoiceField(label="层级", choices=Tier.choices)
    type = forms.ChoiceField(label="类别", choices=Type.choices)
    district = forms.ModelChoiceField(label="组织区县", queryset=None, required=False,
                                      help_text="县级评选必选；市级、省级留空")
    places = forms.IntegerField(label="认定名额", min_value=1, max_value=10000)
    school_limit = forms.IntegerField(label="每校推荐名额", min_value=1, max_value=100, initial=2)
    notice_working_days = forms.IntegerField(label="公示工作日", min_value=1, max_value=30, initial=5)

    def __init__(self, *args, user, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = today.year
        self.fields["district"].queryset = visible_districts(user).order_by("code")
        if role_of(user) == Role.DISTRICT:  # a district opens its own county rounds only
            self.fields["tier"].choices = [(Tier.COUNTY, Tier.COUNTY.label)]
            del self.fields["district"]


class QuotaForm(forms.Form):
    district = forms.ModelChoiceField(label="区县", queryset=None, required=False)
    subject = forms.CharField(label="学科", max_length=32, required=False)
    places = forms.IntegerField(label="名额", min_value=1, max_value=10000, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = visible_districts(user).order_by("code")

    def clean(self):
        data = super().clean()
        if data.get("places") and not data.get("district") and not data.get("subject"):
            raise forms.ValidationError("名额须分配给区县或学科。")
        if (data.get("district") or data.get("subject")) and not data.get("places"):
            raise forms.ValidationError("请填写分配的名额。")
        return data


QuotaFormSet = forms.formset_factory(QuotaForm, extra=QUOTA_ROWS, max_num=QUOTA_ROWS, absolute_max=QUOTA_ROWS)
