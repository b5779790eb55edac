"""Every write to licenses, with the pool rules, once, for every entry point.

Each write runs in one transaction: it takes the company tree's lock (exclusive when it
changes who serves whom, shared otherwise) and the locks of the pools it touches, reads the
pools' timelines, applies the change, reads them again and compares. Whatever the change
made worse is refused (nothing is saved), or, when only residents stop fitting because
capacity went away, suspended on the administrator's confirmation.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from groups.locks import lock_pools, lock_tree
from groups.models import Group, Role, User
from groups.scoping import can_edit_licenses, can_manage

from . import pools, schedule
from .models import (
    MAX_QUANTITY,
    BlockFeature,
    BlockKind,
    Device,
    Feature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolSettings,
    Recurrence,
)

VIRTUAL_NUMBERS = "virtual_numbers"
MOBILE_APPS = "mobile_apps"


def today() -> date:
    """License days are days in the server's time zone."""
    return timezone.localdate()


# --- inputs -----------------------------------------------------------------------------


@dataclass
class SettingsInput:
    restricted: bool
    reminder_enabled: bool = False
    reminder_days: int = 14
    recurrence: str = Recurrence.ONCE
    notify_expired: bool = True


@dataclass
class BlockInput:
    """One block as submitted; `key` names it in errors (a form prefix, an admin row)."""

    key: str
    id: int | None
    kind: str
    valid_from: date
    valid_until: date | None
    quantities: Mapping[str, int]  # feature code -> quantity, switches 1/0
    note: str = ""


@dataclass
class SaveResult:
    suspended: list[Grant] = field(default_factory=list)
    restored: list[Grant] = field(default_factory=list)


class NeedsConfirmation(ValidationError):
    """Only residents would stop fitting: the administrator may confirm suspending them."""

    def __init__(self, message: str, grants: list[Grant]):
        super().__init__(message, code="confirm_suspend")
        self.grants = grants


# --- messages ---------------------------------------------------------------------------


def _day(d: date) -> str:
    return date_format(d, "Y-m-d")


@dataclass(frozen=True)
class PoolFacts:
    """What a message about a shortfall needs beyond the numbers."""

    end: date | None  # the pool's last day with capacity, None if it has no end
    holders: tuple[str, ...] = ()  # sub-groups whose blocks take the feature that day


def shortfall_message(s: pools.Shortfall, facts: PoolFacts) -> str:
    end = facts.end
    params = {"pool": s.pool.name, "feature": s.feature.label.lower(), "day": _day(s.day),
              "capacity": s.capacity, "need": s.need}
    if not s.feature.is_counted:
        return _("%(pool)s's pool does not have %(feature)s on %(day)s, which is needed there.") % params
    if s.capacity == 0 and end is not None and end < s.day:
        return _("The pool of %(pool)s ends on %(end)s: nothing is left of %(feature)s on %(day)s, "
                 "where %(need)s are needed.") % {**params, "end": _day(end)}
    if s.kind == "blocks" and s.residents:
        who = _("sub-groups and residents")
    elif s.kind == "blocks":
        who = _("sub-groups")
    else:
        who = _("sub-groups and residents") if s.carved else _("residents")
    message = _("%(pool)s's pool has %(capacity)s %(feature)s on %(day)s; %(who)s would need %(need)s.") % {
        **params, "who": who}
    if s.kind == "blocks" and not s.added_demand and facts.holders:
        message += " " + _("Lower these sub-groups' blocks first: %(groups)s.") % {"groups": ", ".join(facts.holders)}
    return message


# --- validation of one block's shape ----------------------------------------------------


def _features_by_code() -> dict[str, Feature]:
    return {f.code: f for f in Feature.objects.all()}


def validate_block_input(block: BlockInput, features: dict[str, Feature]) -> list[str]:
    """Checks of one block on its own: kind, dates, quantities, virtual numbers ≥ mobile apps."""
    errors = []
    if block.kind not in BlockKind.values:
        errors.append(_("Choose a valid kind."))
    if block.valid_until is not None and block.valid_from and block.valid_until < block.valid_from:
        errors.append(_("“Valid until” (%(until)s) is before “valid from” (%(from)s).")
                      % {"until": _day(block.valid_until), "from": _day(block.valid_from)})
    for code, quantity in block.quantities.items():
        feature = features.get(code)
        if feature is None:
            errors.append(_("Unknown feature “%(code)s”.") % {"code": code})
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) and feature.is_counted:
            errors.append(_("%(feature)s: enter a whole number.") % {"feature": feature.label})
        elif quantity < 0 or quantity > (MAX_QUANTITY if feature.is_counted else 1):
            errors.append(_("%(feature)s: enter a number from 0 to %(max)s.")
                          % {"feature": feature.label, "max": MAX_QUANTITY if feature.is_counted else 1})
    vn, apps = block.quantities.get(VIRTUAL_NUMBERS, 0), block.quantities.get(MOBILE_APPS, 0)
    if isinstance(vn, int) and isinstance(apps, int) and vn < apps:
        errors.append(_("Virtual numbers (%(vn)s) must be at least the mobile app installs (%(apps)s).")
                      % {"vn": vn, "apps": apps})
    return errors


# --- the checked transaction ------------------------------------------------------------


class PoolChange:
    """Before/after comparison of a set of pools around one change, inside a transaction."""

    def __init__(self, pool_groups: Iterable[Group | None], *, on: date):
        self.today = on
        self.features = pools.all_features()
        self.pools = {p.pk: p for p in pool_groups if p is not None}
        lock_pools(self.pools)
        self.before = {pk: pools.timeline(p, on) for pk, p in self.pools.items()}

    def shortfalls(self, after_pools: Iterable[Group | None], *, for_grant: bool = False) -> list[tuple[pools.Shortfall, PoolFacts]]:
        found = []
        for pool in after_pools:
            if pool is None:
                continue
            pool.refresh_from_db()
            after = pools.timeline(pool, self.today)
            before = self.before.get(pool.pk)
            for s in pools.compare(before, after, self.features, for_grant=for_grant):
                holder_ids = {span.group_id for span in after.carved_spans
                              if span.quantities.get(s.feature.pk) and span.valid_from <= s.day
                              and (span.valid_until is None or s.day <= span.valid_until)}
                holders = tuple(Group.objects.filter(pk__in=holder_ids).order_by("lft").values_list("name", flat=True)) \
                    if holder_ids else ()
                found.append((s, PoolFacts(after.last_day(), holders)))
        return found


def _raise_hard(shortfalls, *, blocks: Iterable[BlockInput] = ()) -> None:
    """Refuse with one message per shortfall, put on the submitted blocks valid that day."""
    errors: dict[str, list[str]] = {}
    for s, end in shortfalls:
        message = shortfall_message(s, end)
        keys = [b.key for b in blocks
                if b.valid_from <= s.day and (b.valid_until is None or s.day <= b.valid_until)]
        for key in keys or ["__all__"]:
            errors.setdefault(key, []).append(message)
    raise ValidationError(errors)


def _resolve(change: PoolChange, after_pools: list[Group | None], *, confirm: bool, actor: User | None,
             blocks: Iterable[BlockInput] = ()) -> SaveResult:
    """Refuse, ask to confirm, or suspend, from what the change did to `after_pools`."""
    shortfalls = change.shortfalls(after_pools)
    hard = [(s, e) for s, e in shortfalls if s.kind == "blocks" or s.added_demand]
    if hard:
        _raise_hard(hard, blocks=blocks)
    result = SaveResult()
    soft_pools = {s.pool.pk: s.pool for s, _e in shortfalls}
    if soft_pools:
        to_suspend: list[Grant] = []
        for pool in soft_pools.values():
            to_suspend += _grants_to_suspend(pool, change.today)
        if to_suspend and not confirm:
            names = ", ".join(f"{g.user.display_name} ({g.group.name})" for g in to_suspend)
            raise NeedsConfirmation(
                " ".join(shortfall_message(s, e) for s, e in shortfalls)
                + " " + _("Confirm to suspend these residents' grants: %(names)s.") % {"names": names},
                to_suspend,
            )
        _suspend(to_suspend, actor)
        result.suspended = to_suspend
    for pool in after_pools:
        if pool is not None:
            result.restored += restore_grants(pool=pool, on=change.today, actor=actor)
    return result


# --- suspension and restoration ---------------------------------------------------------


def _grant_quantities(grants: Iterable[Grant]) -> dict[int, dict[int, int]]:
    rows = GrantFeature.objects.filter(grant__in=list(grants), quantity__gt=0).values_list("grant_id", "feature_id", "quantity")
    out: dict[int, dict[int, int]] = {}
    for grant_id, feature_id, quantity in rows:
        out.setdefault(grant_id, {})[feature_id] = quantity
    return out


def _room_today(pool: Group, on: date) -> tuple[dict[int, int], dict[int, bool], dict[int, Feature]]:
    """What is left today per counted feature (may be negative) and which switches are on."""
    features = pools.all_features()
    tl = pools.timeline(pool, on)
    capacity, carved = tl.at(on)
    room, switches = {}, {}
    for fid, feature in features.items():
        if feature.is_counted:
            room[fid] = capacity.get(fid, 0) - carved.get(fid, 0) - tl.residents.get(fid, 0)
        else:
            switches[fid] = capacity.get(fid, 0) > 0
    return room, switches, features


def _grants_to_suspend(pool: Group, on: date) -> list[Grant]:
    """The grants to suspend, most recent first, until the residents fit the pool today."""
    room, switches, _features = _room_today(pool, on)
    short = {fid for fid, r in room.items() if r < 0}
    missing_switches = {fid for fid, on_ in switches.items() if not on_}
    if not short and not missing_switches:
        return []
    scope = pools.pool_scope(pool)
    candidates = [pk for pk, lft in Grant.objects.filter(scope.subtree("group__"), suspended_at__isnull=True)
                  .order_by("-granted_at", "-pk").values_list("pk", "group__lft") if scope.serves(lft)]
    quantities: dict[int, dict[int, int]] = defaultdict(dict)
    for grant_id, feature_id, quantity in GrantFeature.objects.filter(
            scope.subtree("grant__group__"), grant__suspended_at__isnull=True, quantity__gt=0).values_list(
            "grant_id", "feature_id", "quantity"):
        quantities[grant_id][feature_id] = quantity
    chosen: list[int] = []
    switch_users = {fid: sum(1 for pk in candidates if quantities[pk].get(fid)) for fid in missing_switches}
    for pk in candidates:
        if not short and not any(switch_users.values()):
            break
        q = quantities[pk]
        if any(q.get(fid, 0) > 0 for fid in short) or any(q.get(fid, 0) > 0 for fid in missing_switches):
            chosen.append(pk)
            for fid, amount in q.items():
                if fid in room:
                    room[fid] += amount
                if fid in switch_users and amount:
                    switch_users[fid] -= 1
            short = {fid for fid, r in room.items() if r < 0}
    by_pk = Grant.objects.select_related("user", "group").in_bulk(chosen)
    return [by_pk[pk] for pk in chosen]


def _suspend(grants: list[Grant], actor: User | None) -> None:
    now = timezone.now()
    for grant in grants:
        grant.suspended_at = now
        grant._history_user = actor
        grant.save(update_fields=["suspended_at"])


def suspend_to_fit(*, pool: Group, on: date, actor: User | None) -> list[Grant]:
    """Suspend residents' grants, most recent first, until they fit what `pool` has on `on`."""
    grants = _grants_to_suspend(pool, on)
    _suspend(grants, actor)
    return grants


def restore_grants(*, pool: Group, on: date, actor: User | None) -> list[Grant]:
    """Bring suspended grants back, oldest first, as far as the pool has room today."""
    scope = pools.pool_scope(pool)
    # Cheap when nothing is suspended (the usual case): one indexed look-up, then done.
    suspended = [g for g in Grant.objects.filter(scope.subtree("group__"), suspended_at__isnull=False)
                 .select_related("user", "group").order_by("granted_at", "pk") if scope.serves(g.group.lft)]
    if not suspended:
        return []
    room, switches, _features = _room_today(pool, on)
    quantities = _grant_quantities(suspended)
    restored = []
    for grant in suspended:
        q = quantities.get(grant.pk, {})
        fits = all(room.get(fid, 0) >= amount for fid, amount in q.items() if fid in room) and all(
            switches.get(fid, False) for fid, amount in q.items() if fid in switches and amount > 0)
        if fits:
            for fid, amount in q.items():
                if fid in room:
                    room[fid] -= amount
            grant.suspended_at = None
            grant._history_user = actor
            grant.save(update_fields=["suspended_at"])
            restored.append(grant)
    return restored


# --- the Licenses section of a group ----------------------------------------------------


def _write_quantities(block: LicenseBlock, quantities: Mapping[str, int], features: dict[str, Feature],
                      actor: User | None) -> None:
    existing = {bf.feature_id: bf for bf in block.quantities.all()}
    for code, feature in features.items():
        quantity = int(quantities.get(code, 0) or 0)
        row = existing.get(feature.pk)
        if row is None:
            if quantity:
                row = BlockFeature(block=block, feature=feature, quantity=quantity)
                row._history_user = actor
                row.save()
        elif row.quantity != quantity:
            row.quantity = quantity
            row._history_user = actor
            row.save(update_fields=["quantity"])


def _settings_for(group: Group) -> PoolSettings:
    return PoolSettings.objects.filter(group=group).first() or PoolSettings(group=group)


def validate_settings_input(data: SettingsInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(data.reminder_days, int) or not 1 <= data.reminder_days <= 365:
        errors["reminder_days"] = [_("Enter a number of days from 1 to 365.")]
    if data.recurrence not in Recurrence.values:
        errors["recurrence"] = [_("Choose a valid recurrence.")]
    return errors


@transaction.atomic
def licenses_save(
    *,
    group: Group,
    settings: SettingsInput,
    blocks: list[BlockInput],
    delete_ids: Iterable[int] = (),
    confirm_suspend: bool = False,
    actor: User | None,
    on: date | None = None,
) -> SaveResult:
    """Save a group's whole Licenses section at once: all of it, or nothing."""
    if actor is not None and not can_edit_licenses(actor, group):
        raise PermissionDenied(_("You cannot edit the licenses of this group."))
    on = on or today()
    features = _features_by_code()

    errors: dict[str, list[str]] = validate_settings_input(settings)
    for block in blocks:
        if block_errors := validate_block_input(block, features):
            errors[block.key] = block_errors
    if errors:
        raise ValidationError(errors)

    group.refresh_from_db()
    current = _settings_for(group)
    structure_changes = current.restricted != settings.restricted
    lock_tree(group.tree_id, shared=not structure_changes)

    own = {b.pk: b for b in LicenseBlock.objects.filter(group=group, device__isnull=True)}
    delete_ids = {int(i) for i in delete_ids}
    for block in blocks:
        if block.id is not None and block.id not in own:
            raise ValidationError({block.key: [_("This block does not belong to this group.")]})
    unknown = delete_ids - set(own)
    if unknown:
        raise ValidationError(_("Some blocks to remove do not belong to this group."))

    owner = pools.pool_owner(group)
    change = PoolChange([owner, group if current.restricted else None], on=on)

    # Apply.
    for key, value in settings.__dict__.items():
        setattr(current, key, value)
    current._history_user = actor
    current.save()
    for block_id in delete_ids:
        block = own[block_id]
        block._history_user = actor
        block.delete()
    for data in blocks:
        if data.id in delete_ids:
            continue
        block = own.get(data.id) if data.id else LicenseBlock(group=group)
        fields = {"kind": data.kind, "valid_from": data.valid_from, "valid_until": data.valid_until, "note": data.note or ""}
        if block.pk is None or any(getattr(block, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(block, k, v)
            if block.valid_until is None or block.valid_until >= on:
                block.expired_at = None  # renewed
            block._history_user = actor
            block.save()
        _write_quantities(block, data.quantities, features, actor)

    reschedule_reminders(group=group, on=on)
    after_pools = [owner, group if settings.restricted else None]
    return _resolve(change, after_pools, confirm=confirm_suspend, actor=actor, blocks=blocks)


def reschedule_reminders(*, group: Group, on: date, settings: PoolSettings | None = None) -> None:
    """Recompute the next reminder day of each of the group's blocks (few rows: one group's)."""
    settings = settings or _settings_for(group)
    for block in LicenseBlock.objects.filter(group=group, device__isnull=True, valid_until__isnull=False):
        due = next_reminder_for(block, settings, on)
        if block.next_reminder_on != due:
            LicenseBlock.objects.filter(pk=block.pk).update(next_reminder_on=due)


def next_reminder_for(block: LicenseBlock, settings: PoolSettings, on: date) -> date | None:
    """When the reminder sweep should next look at `block`.

    `on` itself when some reminder already fell due (the sweep then sends the latest one unless
    the ledger has it: a block created inside its reminder window still gets its reminder), else
    the first reminder day after `on`, or None when there is none left.
    """
    if block.valid_until is None or block.device_id is not None:
        return None
    if not (settings.reminder_enabled or settings.notify_expired):
        return None
    args = (block.valid_until, settings.reminder_days, settings.recurrence, settings.notify_expired)
    if schedule.latest_due(*args, on, reminder_on=settings.reminder_enabled) is not None:
        return on
    return schedule.next_reminder(*args, on, reminder_on=settings.reminder_enabled)


# --- devices ----------------------------------------------------------------------------


@transaction.atomic
def device_register(*, group: Group, serial_number: str, model: str, actor: User | None,
                    on: date | None = None) -> Device:
    """Register a device in `group`; its Basic block joins the pool that serves the group."""
    if actor is not None and not can_manage(actor, group):
        raise PermissionDenied(_("You cannot change this group."))
    serial_number, model = (serial_number or "").strip(), (model or "").strip()
    errors = {}
    if not serial_number:
        errors["serial_number"] = [_("Enter the serial number.")]
    if not model:
        errors["model"] = [_("Enter the model.")]
    if errors:
        raise ValidationError(errors)
    lock_tree(group.tree_id, shared=True)
    if Device.objects.filter(serial_number__iexact=serial_number).exists():
        raise ValidationError({"serial_number": [_("A device with this serial number is already registered.")]})
    on = on or today()
    pool = pools.serving_pool(group)
    lock_pools([pool.pk] if pool else [])
    device = Device(group=group, serial_number=serial_number, model=model)
    device._history_user = actor
    device.save()
    block = LicenseBlock(group=group, kind=BlockKind.BASIC, valid_from=on, valid_until=None, device=device,
                         note=_("Basic license of device %(serial)s") % {"serial": serial_number})
    block._history_user = actor
    block.save()
    features = _features_by_code()
    _write_quantities(block, django_settings.LICENSE_BASIC_QUANTITIES, features, actor)
    if pool is not None:
        restore_grants(pool=pool, on=on, actor=actor)
    return device


@transaction.atomic
def device_unregister(*, device: Device, actor: User | None, confirm_suspend: bool = False,
                      on: date | None = None) -> SaveResult:
    """Remove a device and its Basic block, under the same rules as lowering a block."""
    group = device.group
    if actor is not None and not can_manage(actor, group):
        raise PermissionDenied(_("You cannot change this group."))
    lock_tree(group.tree_id, shared=True)
    on = on or today()
    pool = pools.serving_pool(group)
    change = PoolChange([pool], on=on)
    device._history_user = actor
    device.delete()
    return _resolve(change, [pool], confirm=confirm_suspend, actor=actor)


# --- residents' grants ------------------------------------------------------------------


def residents_of(group: Group):
    return User.objects.filter(memberships__group=group, memberships__role=Role.RESIDENT)


@transaction.atomic
def grant_set(*, group: Group, user: User, quantities: Mapping[str, int], actor: User | None,
              on: date | None = None) -> Grant:
    """Set a resident's counted quantities and switches, within what their pool has today."""
    if actor is not None and not can_manage(actor, group):
        raise PermissionDenied(_("You cannot change this group."))
    if group.kind != Group.Kind.APARTMENT or not residents_of(group).filter(pk=user.pk).exists():
        raise ValidationError(_("%(user)s is not a resident of %(group)s.") % {"user": user, "group": group})
    features = _features_by_code()
    errors = []
    for code, quantity in quantities.items():
        feature = features.get(code)
        if feature is None:
            errors.append(_("Unknown feature “%(code)s”.") % {"code": code})
        elif not isinstance(quantity, int) or quantity < 0 or quantity > (MAX_QUANTITY if feature.is_counted else 1):
            errors.append(_("%(feature)s: enter a number from 0 to %(max)s.")
                          % {"feature": feature.label, "max": MAX_QUANTITY if feature.is_counted else 1})
    if errors:
        raise ValidationError({"__all__": errors})
    lock_tree(group.tree_id, shared=True)
    on = on or today()
    pool = pools.serving_pool(group)
    change = PoolChange([pool], on=on)
    grant = Grant.objects.filter(group=group, user=user).first()
    if grant is None:
        grant = Grant(group=group, user=user, granted_at=timezone.now())
        grant._history_user = actor
        grant.save()
    elif grant.suspended_at is not None:
        # Editing a suspended grant asks for it back; it must fit like a new one.
        grant.suspended_at = None
        grant._history_user = actor
        grant.save(update_fields=["suspended_at"])
    existing = {gf.feature_id: gf for gf in grant.quantities.all()}
    for code, feature in features.items():
        if code not in quantities:
            continue
        quantity = quantities[code]
        row = existing.get(feature.pk)
        if row is None and quantity:
            row = GrantFeature(grant=grant, feature=feature, quantity=quantity)
            row._history_user = actor
            row.save()
        elif row is not None and row.quantity != quantity:
            row.quantity = quantity
            row._history_user = actor
            row.save(update_fields=["quantity"])
    if pool is not None:
        shortfalls = change.shortfalls([pool], for_grant=True)
        if shortfalls:
            _raise_hard(shortfalls)
    return grant


# --- companies' Trial -------------------------------------------------------------------


def issue_trial(company: Group, actor: User | None) -> LicenseBlock:
    """A new company gets its own pool with a Trial block: all features, for the trial days."""
    on = today()
    settings = PoolSettings(group=company, restricted=True, reminder_enabled=True, reminder_days=7,
                            recurrence=Recurrence.DAILY, notify_expired=True)
    settings._history_user = actor
    settings.save()
    block = LicenseBlock(group=company, kind=BlockKind.TRIAL, valid_from=on,
                         valid_until=on + timedelta(days=django_settings.LICENSE_TRIAL_DAYS - 1),
                         note=_("Trial"))
    block._history_user = actor
    block.save()
    features = _features_by_code()
    quantities = dict(django_settings.LICENSE_TRIAL_QUANTITIES)
    quantities.update({code: 1 for code, f in features.items() if not f.is_counted})
    _write_quantities(block, quantities, features, actor)
    reschedule_reminders(group=company, on=on, settings=settings)
    return block


# --- the tree's moves and deletions -----------------------------------------------------


def tree_change_check(event: str, group: Group, new_parent: Group | None):
    """Called by groups.services before a move or delete: refuse what would break a pool."""
    on = today()
    old_pool = pools.serving_pool(group.parent) if group.parent_id else None
    new_pool = pools.serving_pool(new_parent) if new_parent is not None else None
    if old_pool is None and new_pool is None:
        return None
    change = PoolChange([old_pool, new_pool], on=on)

    def after() -> None:
        shortfalls = change.shortfalls([p for p in (old_pool, new_pool) if p is not None])
        if shortfalls:
            field = "new_parent" if event == "move" else None
            messages = [shortfall_message(s, e) for s, e in shortfalls]
            prefix = (_("This move would break a pool:") if event == "move"
                      else _("Deleting this group would break a pool:"))
            messages.insert(0, prefix)
            raise ValidationError({field: messages} if field else messages)

    return after


def block_to_input(block: LicenseBlock, features: dict[str, Feature] | None = None, *, key: str | None = None) -> BlockInput:
    features = features or _features_by_code()
    by_id = {f.pk: code for code, f in features.items()}
    quantities = {by_id[bf.feature_id]: bf.quantity for bf in block.quantities.all()}
    return BlockInput(key=key or f"block-{block.pk}", id=block.pk, kind=block.kind, valid_from=block.valid_from,
                      valid_until=block.valid_until, quantities=quantities, note=block.note)


def settings_input(group: Group) -> SettingsInput:
    s = _settings_for(group)
    return SettingsInput(restricted=s.restricted, reminder_enabled=s.reminder_enabled, reminder_days=s.reminder_days,
                         recurrence=s.recurrence, notify_expired=s.notify_expired)


@transaction.atomic
def block_extend(*, block: LicenseBlock, days: int, actor: User | None) -> LicenseBlock:
    """Renew: move a block's end `days` later, under the same rules as the Licenses form."""
    if block.device_id is not None or block.valid_until is None:
        raise ValidationError(_("This block has no end to extend."))
    if not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationError({"days": _("Enter a number of days from 1 to 3650.")})
    data = block_to_input(block)
    data.valid_until = block.valid_until + timedelta(days=days)
    licenses_save(group=block.group, settings=settings_input(block.group), blocks=[data], actor=actor)
    block.refresh_from_db()
    return block


@transaction.atomic
def grants_set_bulk(*, group: Group, quantities_by_user: Mapping[User, Mapping[str, int]], actor: User | None,
                    on: date | None = None) -> list[Grant]:
    """Set the grants of several residents of one apartment at once: all of them, or none."""
    grants = []
    for user, quantities in quantities_by_user.items():
        try:
            grants.append(grant_set(group=group, user=user, quantities=quantities, actor=actor, on=on))
        except ValidationError as exc:
            raise ValidationError({f"u{user.pk}": exc.messages}) from exc
    return grants
