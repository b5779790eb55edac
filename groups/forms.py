from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Row, Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Group, Role
from .services import GenerationPlan, roles_for


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Group.Kind.choices)
    number = forms.CharField(label=_("Number"), max_length=32, required=False,
                             help_text=_("Building number, apartment number…"))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, parent: Group | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.fields["kind"].choices = [c for c in Group.Kind.choices if c[0] != Group.Kind.COMPANY]
        else:
            self.fields["kind"].choices = [c for c in Group.Kind.choices if c[0] == Group.Kind.COMPANY]


class MoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(
        label=_("New parent"), queryset=Group.objects.none(), widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a group from the list: that one is not in your scope.")},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = candidates


class GenerateForm(forms.Form):
    buildings = forms.IntegerField(label=_("Buildings"), min_value=1, max_value=500, initial=1)
    units = forms.IntegerField(label=_("Units per building"), min_value=0, max_value=100, initial=0,
                               help_text=_("0: floors sit directly in the building."))
    floors = forms.IntegerField(label=_("Floors per unit"), min_value=1, max_value=200, initial=5)
    apartments_per_floor = forms.IntegerField(label=_("Apartments per floor"), min_value=1, max_value=100, initial=4)
    building_start = forms.IntegerField(label=_("First building number"), min_value=0, initial=1)
    unit_start = forms.IntegerField(label=_("First unit number"), min_value=0, initial=1)
    floor_start = forms.IntegerField(label=_("First floor number"), min_value=0, initial=1)
    apartment_start = forms.IntegerField(label=_("First apartment number"), min_value=0, initial=1,
                                         help_text=_("Apartments are numbered through each building."))
    building_pattern = forms.CharField(label=_("Building name"), initial=_("Building {n}"), max_length=100)
    unit_pattern = forms.CharField(label=_("Unit name"), initial=_("Unit {n}"), max_length=100)
    floor_pattern = forms.CharField(label=_("Floor name"), initial=_("Floor {n}"), max_length=100)
    apartment_pattern = forms.CharField(label=_("Apartment name"), initial=_("Apartment {n}"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = forms_layout()
        self.helper.add_input(Submit("generate", _("Generate")))

    def plan(self) -> GenerationPlan:
        return GenerationPlan(**self.cleaned_data)


def forms_layout():
    from crispy_forms.layout import Layout

    return Layout(
        Row(Column("buildings"), Column("units"), Column("floors"), Column("apartments_per_floor")),
        Row(Column("building_start"), Column("unit_start"), Column("floor_start"), Column("apartment_start")),
        Row(Column("building_pattern"), Column("unit_pattern"), Column("floor_pattern"), Column("apartment_pattern")),
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=pgettext_lazy("person", "Name"), required=False, max_length=150,
                           help_text=_("Used when the person has no account yet."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE)

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role.value, role.label) for role in roles_for(group)]
        self.helper = FormHelper()
        self.helper.add_input(Submit("invite", _("Add")))
