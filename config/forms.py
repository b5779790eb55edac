"""Forms that belong to no app (login, profile) and form help: a service's refusal put where the
person will see it, and forms shown read-only to those who may only look."""

from collections.abc import Iterable, Mapping
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import User


def put_errors(exc: ValidationError | PermissionDenied, form, *, by_key: Mapping[str, Any] | None = None,
               field_names: Mapping[str, str] | None = None, denied_field: str | None = None) -> None:
    """Put a service's refusal on `form`: each error at the field it names; on the sub-form a key
    names (a formset's block, a resident's row: `by_key`); everything else at the top.

    field_names: the service's name for a field → the form's (`new_parent` → `parent`).
    denied_field: where a PermissionDenied goes (None: the top).
    """
    if isinstance(exc, PermissionDenied):
        form.add_error(denied_field, str(exc) or _("You cannot do this."))
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        field = (field_names or {}).get(key, key)
        if field in form.fields:
            form.add_error(field, errors)
        elif by_key and key in by_key:
            for error in errors:
                by_key[key].add_error(_field_of(error, by_key[key]), error)
        else:
            form.add_error(None, errors)


def _field_of(error: ValidationError, form) -> str | None:
    """The field of `form` a service's error concerns, by its code: "shortfall:<feature>" is that
    feature's quantity, "past_end" the block's end; None (the form's top) otherwise."""
    code = getattr(error, "code", None) or ""
    if code.startswith("shortfall:") and f"f_{code.split(':', 1)[1]}" in form.fields:
        return f"f_{code.split(':', 1)[1]}"
    if code == "past_end" and "valid_until" in form.fields:
        return "valid_until"
    return None


def error_summary(*forms_with_names) -> list[tuple[str, str, str]]:
    """Every error of these forms at once, for the summary at the top of a page: (where, message,
    the id to link to). forms_with_names: (form, its name in the summary, the id of its section)."""
    items = []
    for form, name, section_id in forms_with_names:
        for field, errors in form.errors.items():
            if field == "__all__":
                where, anchor = name, section_id
            else:
                bound = form[field]
                where, anchor = f"{name} · {bound.label}" if name else str(bound.label), bound.auto_id
            items += [(where, str(message), anchor) for message in errors]
    return items


def show_read_only(forms: Iterable) -> None:
    """Every field of these forms shown but not editable (a browser cannot submit them either)."""
    for form in forms:
        for field in form.fields.values():
            field.disabled = True


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=gettext_lazy("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", gettext_lazy("Save")))
