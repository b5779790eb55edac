"""The permission matrix: every URL the project serves, tried by every role on objects inside and
outside their scope, from the outside.

The URLs are generated, not listed: the web URLs from the resolver, the admin URLs from the admin
registry's get_urls() (add-ons included: django-simple-history's record page, the Users admin's
password page, custom views), the admin site's own views, every admin action and every
autocomplete field. A new URL is covered the day it is added; a new URL with an object in it that
the matrix cannot place fails `test_every_url_with_an_object_is_placed`.

Scope is decided here independently of `groups.scoping`: by walking parent links from each
object's group up to the group where the role is held.

For each role:
- GET of an object outside scope is refused (404, 403, 405, or a redirect to a login page), and
  no name from outside the scope appears in the body;
- POST of the same is refused, and a snapshot of the whole database is unchanged afterwards;
- GET of every page inside scope answers without a 500, names nothing outside scope, and every
  choice of every form field on it lies within scope;
- the admin's lists, searches, filters, autocompletes and actions show nothing outside scope.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.forms import BaseForm, BaseFormSet
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from groups import services as group_services
from groups.models import Group, Membership, Role, User
from licenses import services
from licenses.models import Device, Feature, Grant, LicenseBlock, PoolSettings
from notifications.models import MailTemplate, Notification, ReminderLedger
from tests.factories import UserFactory
from tests.licenses.helpers import block

pytestmark = pytest.mark.django_db

ROLES = ["company_admin_a", "company_admin_b", "dealer_a1", "dealer_a2", "concierge", "resident", "anonymous"]

def by_pk(obj) -> dict:
    return {"pk": obj.pk}


# Web URLs with an object in them: which model the object is, and how the URL's arguments are
# made from one. A parametrised URL missing here fails the placement test below.
WEB_OBJECT_URLS = {
    "groups:detail": (Group, by_pk),
    "groups:children": (Group, by_pk),
    "groups:edit": (Group, by_pk),
    "groups:move": (Group, by_pk),
    "groups:delete": (Group, by_pk),
    "groups:generate": (Group, by_pk),
    "groups:members": (Group, by_pk),
    "groups:membership_delete": (Membership, by_pk),
    "licenses:group_licenses": (Group, by_pk),
    "licenses:devices": (Group, by_pk),
    "licenses:device_delete": (Device, by_pk),
    "licenses:apartment_residents": (Group, by_pk),
    "licenses:resident": (Grant, lambda gr: {"pk": gr.group_id, "user_pk": gr.user_id}),
    "licenses:group_history": (Group, by_pk),
}
# Parametrised URLs whose arguments are no object of ours (a signed one-time link).
WEB_PUBLIC_PARAMETRISED = {"password_reset_confirm"}
ADMIN_OBJECT_ARGS = {"object_id", "pk", "id"}
# Query strings tried on every web page without an object: searches, filters and the CSV exports.
WEB_QUERIES = [{}, {"q": "Site"}, {"q": "Company"}, {"q": "Dealer"}, {"format": "csv"}, {"subtree": "Site B"},
               {"subtree": "Dealer A2"}, {"format": "options", "q": "Site"}, {"format": "options", "q": "Dealer"}]
# Tables that change on any request (sessions, login throttling) are not part of the snapshot.
UNSNAPSHOTTED_APPS = {"sessions", "axes"}


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    # The group each role is held in (None: nowhere); the resident's is their apartment.
    role_group: dict[str, Group | None]
    objects: dict[type, list] = field(default_factory=dict)
    parents: dict[int, int | None] = field(default_factory=dict)

    def chain(self, group_id: int | None) -> list[int]:
        """The group and its ancestors, by parent links (not by the nested sets)."""
        out = []
        while group_id is not None:
            out.append(group_id)
            group_id = self.parents.get(group_id)
        return out

    def groups_in_scope(self, role: str) -> set[int]:
        held = self.role_group[role]
        if held is None or role == "resident":
            return set()
        return {gid for gid in self.parents if held.pk in self.chain(gid)}

    def names_allowed(self, role: str) -> set[int]:
        """Groups whose names a role may read: its scope; a resident, their home's address."""
        if role == "resident":
            return set(self.chain(self.role_group[role].pk))
        return self.groups_in_scope(role)

    def in_scope(self, role: str, obj) -> bool:
        scope = self.groups_in_scope(role)
        me = self.users[role]
        if isinstance(obj, Group):
            return obj.pk in scope
        if isinstance(obj, User):
            return (me is not None and obj.pk == me.pk) or any(
                m.group_id in scope for m in obj.memberships.all())
        if isinstance(obj, Notification):
            return me is not None and obj.user_id == me.pk
        if isinstance(obj, ReminderLedger):
            return obj.block.group_id in scope
        if isinstance(obj, (Membership, LicenseBlock, Device, Grant, PoolSettings)):
            return obj.group_id in scope
        if isinstance(obj, Feature | ContentType):
            return True  # the catalogue and the content types are no tenant's data
        return False  # mail templates, throttling records: the server administrator's alone

    def outside_names(self, role: str) -> list[str]:
        allowed = self.names_allowed(role)
        names = [g.name for g in Group.objects.exclude(pk__in=allowed)]
        me = self.users[role]
        names += [u.email for u in self.people if not self.in_scope(role, u) and u != me]
        names += [d.serial_number for d in self.objects[Device] if d.group_id not in allowed]
        names += [b.note for b in self.objects[LicenseBlock] if b.note.startswith("Block note") and b.group_id not in allowed]
        return names

    def outside(self, role: str, model) -> list:
        """Up to one object of `model` per company or dealer outside the role's scope."""
        picked, buckets = [], set()
        for obj in self.objects.get(model, []):
            if self.in_scope(role, obj):
                continue
            bucket = self._bucket(obj)
            if bucket not in buckets:
                buckets.add(bucket)
                picked.append(obj)
        return picked

    def inside(self, role: str, model) -> list:
        return [obj for obj in self.objects.get(model, []) if self.in_scope(role, obj)][:1]

    def _bucket(self, obj) -> int | None:
        group_id = getattr(obj, "group_id", None) or (obj.pk if isinstance(obj, Group) else None)
        if isinstance(obj, ReminderLedger):
            group_id = obj.block.group_id
        chain = self.chain(group_id)
        return chain[-2] if len(chain) >= 2 else (chain[-1] if chain else obj.pk)

    @property
    def people(self) -> list[User]:
        return self.objects[User]


def _site_layout(site: Group, code: str, operator: User) -> list[Group]:
    """Rename a site's generated groups so that each name says which site it is in."""
    renamed = []
    for group in site.get_descendants():
        renamed.append(group_services.group_update(group=group, name=f"{group.name} ~{code}", kind=group.kind,
                                                   number=group.number, actor=operator))
    return renamed


@pytest.fixture
def world(tree, operator, person) -> World:
    on = services.today()
    companies = {"A": tree["Company A"], "B": tree["Company B"]}
    for company in companies.values():
        services.licenses_save(group=company, settings=services.SettingsInput(restricted=True),
                               blocks=[block(500, 400, 300, start=on, days=400, key="root",
                                             switches=["remote_door_opening"])],
                               actor=operator, on=on)
    apartments = {}
    for code, site_name in (("SA1", "Site A1"), ("SA2", "Site A2"), ("SB", "Site B")):
        _site_layout(tree[site_name], code, operator)
        apartments[code] = tree.apartment(site_name)
    pools = {"Dealer A1": "A1", "Dealer A2": "A2", "Site B": "B"}
    for name, code in pools.items():
        group = tree[name]
        services.licenses_save(group=group, settings=services.SettingsInput(restricted=True, reminder_enabled=True),
                               blocks=[services.BlockInput(key="b", id=None, kind="plus", valid_from=on,
                                                           valid_until=on + timedelta(days=20),
                                                           quantities={"virtual_numbers": 50, "mobile_apps": 40,
                                                                       "ukey2_keys": 30, "remote_door_opening": 1},
                                                           note=f"Block note {code}")],
                               actor=operator, on=on)
    users = {
        "company_admin_a": person(Role.COMPANY_ADMIN, tree["Company A"], email="admin-a@test.example", is_staff=True),
        "company_admin_b": person(Role.COMPANY_ADMIN, tree["Company B"], email="admin-b@test.example", is_staff=True),
        "dealer_a1": person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example", is_staff=True),
        "dealer_a2": person(Role.SITE_ADMIN, tree["Dealer A2"], email="dealer-a2@test.example", is_staff=True),
        "concierge": person(Role.CONCIERGE, tree["Site A1"], email="concierge-a1@test.example"),
        "resident": None,
        "anonymous": None,
    }
    residents = {}
    for code, apartment in apartments.items():
        resident = UserFactory(email=f"resident-{code.lower()}@test.example")
        group_services.membership_add(group=apartment, user=resident, role=Role.RESIDENT, actor=operator)
        services.device_register(group=apartment, serial_number=f"SERIAL-{code}", model="AV-01", actor=operator)
        services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 1, "mobile_apps": 1},
                           actor=operator)
        residents[code] = resident
    users["resident"] = residents["SA1"]
    for name in ("Site A2", "Site B"):  # a concierge in the other trees too: people to keep apart
        person(Role.CONCIERGE, tree[name], email=f"concierge-{name[-2:].strip().lower()}@test.example")
    for group_name, code in pools.items():
        carved = LicenseBlock.objects.get(group=tree[group_name], note=f"Block note {code}")
        admin_user = users["company_admin_b" if code == "B" else "company_admin_a"]
        ReminderLedger.objects.create(block=carved, day=on, recipient=admin_user, kind="expiring")
        Notification.objects.create(user=admin_user, group=carved.group, kind="expiring",
                                    title=f"{carved.group.name} ends soon")
    for user in users.values():
        if user is not None:
            Notification.objects.create(user=user, kind="expiring", title=f"For {user.email}")
    world = World(users=users, role_group={
        "company_admin_a": tree["Company A"], "company_admin_b": tree["Company B"], "dealer_a1": tree["Dealer A1"],
        "dealer_a2": tree["Dealer A2"], "concierge": tree["Site A1"], "resident": apartments["SA1"],
        "anonymous": None})
    world.parents = dict(Group.objects.values_list("pk", "parent_id"))
    world.objects = {
        Group: list(Group.objects.order_by("tree_id", "lft")),
        Membership: list(Membership.objects.order_by("pk")),
        User: list(User.objects.prefetch_related("memberships").filter(is_superuser=False).order_by("pk")),
        LicenseBlock: list(LicenseBlock.objects.order_by("pk")),
        Device: list(Device.objects.order_by("pk")),
        Grant: list(Grant.objects.order_by("pk")),
        PoolSettings: list(PoolSettings.objects.order_by("pk")),
        ReminderLedger: list(ReminderLedger.objects.select_related("block").order_by("pk")),
        Notification: list(Notification.objects.order_by("pk")),
        MailTemplate: [MailTemplate.objects.create(kind="expiring", language="en", subject="Ours {{ group }}",
                                                   text_body="{{ group }}", html_body="<p>{{ group }}</p>")],
        Feature: list(Feature.objects.order_by("pk")[:1]),
    }
    return world


# --- URLs, generated ------------------------------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterable[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin is generated from its registry below
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        else:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry


def web_urls():
    return list(_walk(get_resolver().url_patterns))


def _params(route: str) -> list[str]:
    """Argument names of a route (<int:pk>, <id>) or regex ((?P<name>...) or positional groups)."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if names:
        return names
    return [m or f"_{i}" for i, m in enumerate(re.findall(r"\((?:\?P<(\w+)>)?[^)]*\)", route))]


def _fill(route: str, values: list) -> str:
    """The path of a route with its arguments filled in, in order."""
    values = iter(values)
    path = re.sub(r"<(?:\w+:)?\w+>", lambda m: str(next(values)), route)
    path = re.sub(r"\((?:\?P<\w+>)?[^)]*\)", lambda m: str(next(values)), path)
    return path.lstrip("^").rstrip("$")


@dataclass(frozen=True)
class AdminURL:
    model: type
    name: str | None
    route: str

    def path(self, obj=None) -> str:
        base = f"/admin/{self.model._meta.app_label}/{self.model._meta.model_name}/"
        params = _params(self.route)
        if not params:
            return base + _fill(self.route, [])
        values = [obj.pk]
        if len(params) > 1:  # a history record of the object
            values.append(obj.history.order_by("history_id").first().history_id)
        return base + _fill(self.route, values)


def admin_urls() -> list[AdminURL]:
    return [AdminURL(model, p.name, str(p.pattern))
            for model, model_admin in admin.site._registry.items() for p in model_admin.get_urls()]


def test_every_url_with_an_object_is_placed():
    """A new web URL that takes an object must be added to WEB_OBJECT_URLS to be tried."""
    unplaced = [name for name, route, _ in web_urls()
                if _params(route) and name not in WEB_OBJECT_URLS and name not in WEB_PUBLIC_PARAMETRISED]
    assert not unplaced, f"place these URLs in the scope matrix: {unplaced}"
    for url in admin_urls():
        params = _params(url.route)
        assert not params or params[0] in ADMIN_OBJECT_ARGS or params[0] == "_0", url
        assert not params or hasattr(url.model, "history") or len(params) == 1, url


# --- the checks -----------------------------------------------------------------------------


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _snapshot() -> dict[str, list]:
    return {model._meta.label: list(model._default_manager.order_by("pk").values_list())
            for model in apps.get_models() if model._meta.app_label not in UNSNAPSHOTTED_APPS}


def _followed(client, response):
    """Follow redirects that are not to a login page (the admin's `<id>/` goes on to `<id>/change/`)."""
    for _ in range(3):
        location = response.get("Location", "") if response.status_code in (301, 302) else ""
        if not location or "login" in location:
            break
        response = client.get(location)
    return response


def _refused(response) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    return response.status_code == 302 and "login" in response.get("Location", "")


def _forms_in(response) -> list[BaseForm]:
    found = []
    for context in response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else context.values():
            candidates = [value]
            if hasattr(value, "form") and isinstance(value.form, BaseForm):  # the admin's AdminForm
                candidates.append(value.form)
            if isinstance(value, list):
                candidates += [getattr(v, "formset", v) for v in value]  # the admin's inline formsets
            for item in candidates:
                if isinstance(item, BaseForm):
                    found.append(item)
                elif isinstance(item, BaseFormSet):
                    found += [*item.forms, item.empty_form]
    return found


HOSTILE = {"name": "Taken", "role": "company_admin", "is_staff": "on", "is_superuser": "on", "post": "yes",
           "confirm": "1"}


def _hostile_post(get_response, *, hostile: bool = True) -> dict:
    """What an attacker would post: the page's own forms as served (if it served any), with the
    name changed and every flag raised; else a generic payload. Not hostile: the forms as served."""
    data = {}
    for form in _forms_in(get_response):
        if isinstance(form, BaseForm):
            for name in form.fields:
                value = form[name].value()
                if value not in (None, False):
                    data[form.add_prefix(name)] = [str(v) for v in value] if isinstance(value, list) else str(value)
    for context in get_response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else context.values():
            for formset in value if isinstance(value, list) else [value]:
                formset = getattr(formset, "formset", formset)
                if isinstance(formset, BaseFormSet):
                    management = formset.management_form
                    data.update({management.add_prefix(n): str(management[n].value()) for n in management.fields})
    if hostile:
        data.update(HOSTILE)
        data.update({key: "Taken" for key in list(data) if key.endswith("name") and key != "name"})
    return data


class Findings(list):
    def add(self, role, method, path, what):
        self.append(f"{role} {method} {path}: {what}")


def _check_body(findings, role, method, path, body, outside_names):
    # What the person typed comes back in the search box: that is no leak.
    for typed in re.findall(r"[?&][a-z]+=([^&]+)", path):
        body = body.replace(f'value="{typed}"', "")
    leaked = sorted({name for name in outside_names if name in body})
    if leaked:
        findings.add(role, method, path, f"shows names outside scope: {leaked}")


def _check_choices(findings, world, role, method, path, response):
    for form in _forms_in(response):
        for name, form_field in form.fields.items():
            queryset = getattr(form_field, "queryset", None)
            if queryset is None:
                continue
            wrong = [str(obj) for obj in queryset if not world.in_scope(role, obj)]
            if wrong:
                findings.add(role, method, path, f"field {name} offers choices outside scope: {wrong[:5]}")


def _as(client, world, role) -> tuple[list[str], "Findings"]:
    """Log in as the role (anonymous stays out); the names it must never see, and a findings list."""
    user = world.users[role]
    if user is not None and role != "anonymous":
        client.force_login(user)
    return world.outside_names(role), Findings()


def _object_paths(world, role, *, inside: bool) -> list[tuple[str, object]]:
    """(path, object) for every generated URL that takes an object, with objects in or out of scope."""
    pick = world.inside if inside else world.outside
    paths = []
    for name, _, _ in web_urls():
        if name in WEB_OBJECT_URLS:
            model, kwargs = WEB_OBJECT_URLS[name]
            paths += [(reverse(name, kwargs=kwargs(obj)), obj) for obj in pick(role, model)]
    for url in admin_urls():
        if _params(url.route):
            paths += [(url.path(obj), obj) for obj in pick(role, url.model)]
    for model in world.objects:
        content_type = ContentType.objects.get_for_model(model)
        paths += [(f"/admin/r/{content_type.pk}/{obj.pk}/", obj) for obj in pick(role, model)]
    return paths


@pytest.mark.parametrize("role", ROLES)
def test_objects_outside_scope_are_refused_and_nothing_changes(world, client, role):
    outside_names, findings = _as(client, world, role)
    paths = _object_paths(world, role, inside=False)
    assert paths, "the matrix found no object outside this role's scope"
    before = _snapshot()
    for path, _ in paths:
        response = _followed(client, client.get(path))
        if not _refused(response):
            findings.add(role, "GET", path, f"answered {response.status_code}")
        _check_body(findings, role, "GET", path, _body(response), outside_names)
        response = client.post(path, _hostile_post(response))
        response = _followed(client, response)
        if not _refused(response):
            findings.add(role, "POST", path, f"answered {response.status_code}")
        _check_body(findings, role, "POST", path, _body(response), outside_names)
        after = _snapshot()
        if after != before:
            changed = [label for label in after if after[label] != before.get(label)]
            findings.add(role, "POST", path, f"changed the database: {changed}")
            before = after
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("role", ROLES)
def test_pages_inside_scope_answer_name_nothing_outside_and_offer_only_scoped_choices(world, client, role):
    outside_names, findings = _as(client, world, role)
    pages = [path for path, _ in _object_paths(world, role, inside=True)]
    for name, route, _ in web_urls():
        if not _params(route) and name not in ("logout", "switch_language"):
            pages += [reverse(name) + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")
                      for q in WEB_QUERIES]
    for url in admin_urls():
        if not _params(url.route):
            pages += [url.path(), url.path() + "?q=Site", url.path() + "?q=test.example", url.path() + "?all="]
    pages += ["/admin/", *(f"/admin/{label}/" for label in ("groups", "licenses", "notifications", "axes"))]
    for path in pages:
        response = _followed(client, client.get(path))
        # /health/ says 503 while a check fails (here: no sweep has run yet); tests/test_ops.py.
        unhealthy = path.startswith(reverse("health")) and response.status_code == 503
        if response.status_code >= 500 and not unhealthy:
            findings.add(role, "GET", path, f"answered {response.status_code}")
            continue
        _check_body(findings, role, "GET", path, _body(response), outside_names)
        _check_choices(findings, world, role, "GET", path, response)
        if response.status_code == 200 and _forms_in(response) and "/delete/" not in path:
            # Saving a page's forms as served never answers 500 (the whole admin, walked through).
            saved = client.post(path.split("?")[0], _hostile_post(response, hostile=False))
            if saved.status_code >= 500:
                findings.add(role, "POST", path, f"saving the form as served answered {saved.status_code}")
        for filter_link in _filter_links(response) if "?" not in path else []:
            followed = client.get(path.split("?")[0] + filter_link)
            if followed.status_code >= 500:
                findings.add(role, "GET", filter_link, f"answered {followed.status_code}")
            _check_body(findings, role, "GET", path + filter_link, _body(followed), outside_names)
    assert pages
    assert not findings, "\n".join(findings)


def _filter_links(response) -> list[str]:
    """The query strings of every choice of every filter on an admin change list."""
    changelist = (response.context or {}).get("cl") if response.context else None
    if changelist is None:
        return []
    links = []
    for spec in changelist.filter_specs:
        links += [choice["query_string"] for choice in spec.choices(changelist)]
    return links


@pytest.mark.parametrize("role", ROLES)
def test_admin_autocompletes_and_actions_stay_in_scope(world, client, role):
    outside_names, findings = _as(client, world, role)
    request_user = world.users[role]
    for model, model_admin in admin.site._registry.items():
        inlines = [inline(model, admin.site) for inline in model_admin.inlines]
        for owner in (model_admin, *inlines):
            for field_name in owner.autocomplete_fields:
                for term in ("", "Site", "Company", "test.example", "Dealer"):
                    path = "/admin/autocomplete/"
                    response = client.get(path, {"app_label": owner.model._meta.app_label,
                                                 "model_name": owner.model._meta.model_name,
                                                 "field_name": field_name, "term": term})
                    if response.status_code >= 500:
                        findings.add(role, "GET", path, f"{field_name} answered {response.status_code}")
                    _check_body(findings, role, "GET", f"{path}?field_name={field_name}&term={term}",
                                _body(response), outside_names)
        if request_user is None or not request_user.is_staff:
            continue
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        page = client.get(changelist)
        action_form = page.context.get("action_form") if page.status_code == 200 and page.context else None
        actions = [a for a, _ in action_form.fields["action"].choices if a] if action_form else []
        for action in actions:
            for obj in world.outside(role, model):
                before = _snapshot()
                response = client.post(changelist, {"action": action, "_selected_action": [obj.pk],
                                                    "index": 0, "post": "yes"})
                if response.status_code >= 500:
                    findings.add(role, "POST", changelist, f"action {action} answered {response.status_code}")
                _check_body(findings, role, "POST", f"{changelist} action={action}", _body(response), outside_names)
                if _snapshot() != before:
                    findings.add(role, "POST", changelist, f"action {action} on {obj!r} changed the database")
    assert not findings, "\n".join(findings)
