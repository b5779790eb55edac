from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout
from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import MAX_QUANTITY, BlockKind, Feature, LicenseBlock, Recurrence
from .services import BlockInput, SettingsInput

MAX_BLOCKS = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def add_feature_fields(form: forms.Form, features: list[Feature]) -> None:
    """A whole-number field per counted feature and a checkbox per switch feature, named f_<code>."""
    for feature in features:
        if feature.is_counted:
            form.fields[f"f_{feature.code}"] = forms.IntegerField(
                label=feature.label, required=False, min_value=0, max_value=MAX_QUANTITY, initial=0)
        else:
            form.fields[f"f_{feature.code}"] = forms.BooleanField(label=feature.label, required=False)


def feature_quantities(form: forms.Form) -> dict[str, int]:
    """The cleaned f_<code> fields as the services take them: counts, and 1/0 for switches."""
    return {f.code: (form.cleaned_data.get(f"f_{f.code}") or 0) if f.is_counted
            else int(bool(form.cleaned_data.get(f"f_{f.code}"))) for f in form.features}


class SettingsForm(forms.Form):
    restricted = forms.BooleanField(label=_("Enable restriction"), required=False,
                                    help_text=_("Off: the group shares the pool of its nearest restricted ancestor."))
    reminder_enabled = forms.BooleanField(label=_("Reminder of the end of the license period"), required=False)
    reminder_days = forms.IntegerField(label=_("Days before expiry"), min_value=1, max_value=365, initial=14)
    recurrence = forms.ChoiceField(label=_("Recurrence"), choices=Recurrence.choices, initial=Recurrence.ONCE)
    notify_expired = forms.BooleanField(label=_("Notify when a license has expired"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restricted"].widget.attrs["role"] = "switch"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # A grid: the pool's switch beside the reminders, not everything in the left third.
        self.helper.layout = Layout(Div(
            Div(Switch("restricted"), css_class="col-md-5"),
            Div("reminder_enabled",
                Div(Div("reminder_days", css_class="col-6"), Div("recurrence", css_class="col-6"),
                    css_class="row g-2", css_id="reminder-options", data_reveal_with="id_reminder_enabled"),
                "notify_expired", css_class="col-md-7"),
            css_class="row g-3"))

    def to_input(self) -> SettingsInput:
        return SettingsInput(**self.cleaned_data)


class BlockForm(forms.Form):
    """One license block card; a field per feature of the catalogue."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[(BlockKind.PLUS, BlockKind.PLUS.label)])
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput(),
                                  help_text=_("Empty: no end."))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, features: list[Feature], kinds: list[str] = (BlockKind.PLUS,), **kwargs):
        super().__init__(*args, **kwargs)
        self.features = features
        # The kinds this person may add, and a saved block's own kind (kept when it is edited).
        offered = [*kinds, *([self.initial["kind"]] if self.initial.get("kind") not in (None, *kinds) else [])]
        self.fields["kind"].choices = [(k, BlockKind(k).label) for k in offered]
        self.fields["valid_from"].initial = timezone.localdate()
        add_feature_fields(self, features)

    def counted_fields(self):
        return [self[f"f_{f.code}"] for f in self.features if f.is_counted]

    def switch_fields(self):
        return [self[f"f_{f.code}"] for f in self.features if not f.is_counted]

    def clean(self):
        data = super().clean()
        vf, vu = data.get("valid_from"), data.get("valid_until")
        if vf and vu and vu < vf:
            self.add_error("valid_until", _("“Valid until” is before “valid from”."))
        return data

    def to_input(self) -> BlockInput:
        data = self.cleaned_data
        return BlockInput(key=self.prefix, id=data.get("id"), kind=data["kind"], valid_from=data["valid_from"],
                          valid_until=data.get("valid_until"), quantities=feature_quantities(self),
                          note=data.get("note") or "")


class BaseBlockFormSet(BaseFormSet):
    """A group's blocks as cards: built from the saved blocks, read back as the services' input."""

    @staticmethod
    def initial_for(blocks: list[LicenseBlock], features: list[Feature]) -> list[dict]:
        by_id = {f.pk: f for f in features}
        initial = []
        for block in blocks:
            row = {"id": block.pk, "kind": block.kind, "valid_from": block.valid_from,
                   "valid_until": block.valid_until, "note": block.note}
            for quantity in block.quantities.all():
                feature = by_id[quantity.feature_id]
                row[f"f_{feature.code}"] = quantity.quantity if feature.is_counted else bool(quantity.quantity)
            initial.append(row)
        return initial

    def to_inputs(self, *, valid_only: bool = False) -> tuple[list[BlockInput], list[int]]:
        """(blocks changed or added, ids of the saved blocks to remove); valid_only: leave out the
        cards that have errors of their own (to check the rest against the pools in the same round)."""
        blocks, delete_ids = [], []
        for form in self.forms:
            if valid_only and form.errors:
                continue
            if self.can_delete and self._should_delete_form(form):
                if form.cleaned_data.get("id"):
                    delete_ids.append(form.cleaned_data["id"])
            elif form.cleaned_data and form.has_changed():
                blocks.append(form.to_input())
        return blocks, delete_ids


BlockFormSet = formset_factory(BlockForm, formset=BaseBlockFormSet, extra=0, can_delete=True, max_num=MAX_BLOCKS,
                               validate_max=True, absolute_max=MAX_BLOCKS)


class DeviceForm(forms.Form):
    serial_number = forms.CharField(label=_("Serial number"), max_length=64)
    model = forms.CharField(label=_("Model"), max_length=100)


class GrantForm(forms.Form):
    def __init__(self, *args, features: list[Feature], **kwargs):
        super().__init__(*args, **kwargs)
        self.features = features
        add_feature_fields(self, features)

    def quantities(self) -> dict[str, int]:
        return feature_quantities(self)


class HistoryFilterForm(forms.Form):
    subject = forms.ChoiceField(label=_("What"), required=False, choices=[
        ("", _("Everything")), ("group", _("The group and its place in the tree")), ("settings", _("License settings")),
        ("block", _("License blocks")), ("device", _("Devices")), ("grant", _("Residents' grants")),
        ("membership", _("Roles"))])
    who = forms.CharField(label=_("Who (email)"), required=False, max_length=200)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())
