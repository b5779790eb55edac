"""Who changed what in a group's licenses, tree position and people, from what to what."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import Group, Membership, User

from .models import BlockFeature, Device, Feature, Grant, GrantFeature, LicenseBlock, PoolSettings

# Fields a person learns nothing from: the tree's own bookkeeping and timestamps.
SKIP_FIELDS = {"id", "created_at", "lft", "rght", "level", "tree_id"}


@dataclass
class Entry:
    when: datetime
    who: str
    what: str
    action: str
    changes: list[tuple[str, object, object]]  # (field's verbose name, before, after)


ACTIONS = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


def _previous(records: list) -> dict[int, object]:
    """history_id -> the same object's record just before it, for every changed record, in one
    query per model: the oldest record on a page is compared too, with a record off the page."""
    changed = [r for r in records if r.history_type == "~"]
    if not changed:
        return {}
    history_model = type(changed[0])
    pk_name = history_model.instance_type._meta.pk.attname
    ids = {getattr(r, pk_name) for r in changed}
    latest = max(r.history_date for r in changed)
    earlier: dict[object, list] = {}
    for record in history_model.objects.filter(**{f"{pk_name}__in": ids}, history_date__lte=latest).order_by(
            "history_date", "history_id"):
        earlier.setdefault(getattr(record, pk_name), []).append(record)
    out = {}
    for r in changed:
        chain = earlier.get(getattr(r, pk_name), [])
        position = next((i for i, other in enumerate(chain) if other.history_id == r.history_id), 0)
        if position > 0:
            out[r.history_id] = chain[position - 1]
    return out


def _shown(model, field_name: str, value, names: dict) -> object:
    """A stored value as a person reads it: a choice's label, a feature's or a person's name."""
    field = model._meta.get_field(field_name)
    if value in (None, ""):
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")
    return value


def _names(records: list) -> dict:
    """Names of the features and people the records point at (other targets show as #id:
    a parent group may lie above the reader's scope)."""
    wanted: dict[type, set] = {Feature: set(), User: set()}
    for r in records:
        for field in r.instance_type._meta.concrete_fields:
            if field.is_relation and field.related_model in wanted:
                value = getattr(r, field.attname, None)
                if value is not None:
                    wanted[field.related_model].add(value)
    return {(model, pk): str(obj) for model, pks in wanted.items() if pks
            for pk, obj in model.objects.in_bulk(list(pks)).items()}


def _entries(records: list, label) -> list[Entry]:
    """Each record with what it changed: simple-history's diff_against for a change, the values
    set for a creation."""
    previous = _previous(records)
    names = _names(records)
    out = []
    for r in records:
        model = r.instance_type
        tracked = [f for f in model._meta.concrete_fields if f.name not in SKIP_FIELDS and f.editable
                   and hasattr(r, f.attname)]
        changes = []
        if r.history_type == "+":
            changes = [(f.verbose_name, None, _shown(model, f.name, getattr(r, f.attname), names)) for f in tracked
                       if getattr(r, f.attname) not in (None, "")]
        elif r.history_type == "~" and r.history_id in previous:
            delta = r.diff_against(previous[r.history_id], included_fields=[f.name for f in tracked])
            changes = [(model._meta.get_field(c.field).verbose_name, _shown(model, c.field, c.old, names),
                        _shown(model, c.field, c.new, names)) for c in delta.changes]
        who = str(r.history_user) if r.history_user_id else _("system")
        out.append(Entry(r.history_date, who, label(r), str(ACTIONS.get(r.history_type, r.history_type)), changes))
    return out


SUBJECTS = ["group", "settings", "block", "blockfeature", "device", "grant", "grantfeature", "membership"]


def group_history(*, group: Group, limit: int = 200, subject: str = "", who: str = "",
                  since=None, until=None) -> list[Entry]:
    """The latest `limit` changes of the group itself, its settings, blocks, devices, grants and roles.

    subject: one of SUBJECTS; who: part of the actor's email; since/until: dates, both included.
    """
    block_ids = LicenseBlock.history.filter(group_id=group.pk).values("id").distinct()
    grant_ids = Grant.history.filter(group_id=group.pk).values("id").distinct()
    sources = [
        (Group.history.filter(id=group.pk), "group", lambda r: _("Group %(name)s") % {"name": r.name}),
        (PoolSettings.history.filter(group_id=group.pk), "settings", lambda r: _("License settings")),
        (LicenseBlock.history.filter(group_id=group.pk), "block", lambda r: _("Block #%(id)s (%(kind)s)") % {"id": r.id, "kind": r.kind}),
        (BlockFeature.history.filter(block_id__in=block_ids).select_related("feature"), "blockfeature",
         lambda r: _("Block #%(id)s: %(feature)s") % {"id": r.block_id, "feature": r.feature.label if r.feature_id else ""}),
        (Device.history.filter(group_id=group.pk), "device", lambda r: _("Device %(serial)s") % {"serial": r.serial_number}),
        (Grant.history.filter(group_id=group.pk).select_related("user"), "grant", lambda r: _("Grant of %(user)s") % {"user": r.user}),
        (GrantFeature.history.filter(grant_id__in=grant_ids).select_related("feature"), "grantfeature",
         lambda r: _("Grant #%(id)s: %(feature)s") % {"id": r.grant_id, "feature": r.feature.label if r.feature_id else ""}),
        (Membership.history.filter(group_id=group.pk).select_related("user"), "membership",
         lambda r: _("Role %(role)s of %(user)s") % {"role": r.role, "user": r.user}),
    ]
    entries: list[Entry] = []
    for qs, key, label in sources:
        if subject and not key.startswith(subject):
            continue
        if who:
            qs = qs.filter(history_user__email__icontains=who.strip())
        if since:
            qs = qs.filter(history_date__date__gte=since)
        if until:
            qs = qs.filter(history_date__date__lte=until)
        entries += _entries(list(qs.select_related("history_user").order_by("-history_date")[:limit]), label)
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
