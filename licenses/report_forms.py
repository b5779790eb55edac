import re

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.models import Group

from .forms import DateInput
from .models import BlockKind, Feature

STATES = [("", _("Any")), ("scheduled", _("Scheduled")), ("active", _("Active")), ("ending", _("Ending")),
          ("expired", _("Expired"))]


class UsageFilterForm(forms.Form):
    subtree = forms.CharField(label=_("Subtree"), required=False, max_length=300,
                              help_text=_("Type a group's name and pick it: only its pools and those below it."))
    kind = forms.ChoiceField(label=_("Group kind"), required=False, choices=[("", _("Any"))] + list(Group.Kind.choices))
    administrator = forms.CharField(label=_("Administrator (email)"), required=False, max_length=200)
    feature = forms.ChoiceField(label=_("Feature"), required=False)
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    show = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("all", _("All pools")), ("any", _("Pools with any use"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].choices = [("", _("All counted features"))] + [
            (f.code, f.label) for f in Feature.objects.filter(kind=Feature.Kind.COUNTED)]
        self.fields["day"].widget.attrs["placeholder"] = timezone.localdate().isoformat()
        self.fields["subtree"].widget.attrs.update({
            "list": "subtree-options", "autocomplete": "off", "hx-get": reverse("groups:autocomplete") + "?format=options",
            "hx-trigger": "input changed delay:300ms", "hx-target": "#subtree-options"})

    def clean_subtree(self) -> int | None:
        """Accepts "Name #123" (what the picker fills in) or a bare id."""
        value = (self.cleaned_data.get("subtree") or "").strip()
        if not value:
            return None
        match = re.search(r"#(\d+)\s*$", value) or re.fullmatch(r"(\d+)", value)
        if not match:
            raise forms.ValidationError(_("Pick a group from the list."))
        return int(match.group(1))


class ValidityFilterForm(forms.Form):
    date_field = forms.ChoiceField(label=_("Date"), required=False, choices=[
        ("valid_until", _("Valid until")), ("valid_from", _("Valid from"))])
    date_op = forms.ChoiceField(label=_("Is"), required=False, choices=[
        ("", _("Any")), ("eq", _("equal to")), ("lt", _("before")), ("gt", _("after"))])
    date = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any"))] + list(BlockKind.choices))
    group = forms.CharField(label=_("Group name"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("date_op") and not data.get("date"):
            self.add_error("date", _("Enter the day to compare with."))
        return data
