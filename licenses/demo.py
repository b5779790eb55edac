"""The demo data `make run` loads: two distributors with dealers, sites, residents and licenses.

Everything goes through the services, as a person would do it, so the demo obeys every rule.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from groups import services as groups
from groups.models import Group, Role, User

from . import services
from .services import BlockInput, SettingsInput

DEMO_PASSWORD = "demo-pass-2026"
MARKER = "Northwind Intercom"


@dataclass(frozen=True)
class Login:
    email: str
    role: str


def _user(email: str, name: str, *, staff: bool = False, superuser: bool = False, language: str = "en") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, name=name, is_staff=staff or superuser, is_superuser=superuser, language=language)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


ALL_SWITCHES = ["sip_trunks", "group_forward_rules", "remote_door_opening", "guest_access", "elevators",
                "amenities_reservation", "license_plates", "family_events", "apple_watch", "siri", "white_label"]


def _plus(key: str, start: date, end: date | None, vn: int, apps: int, keys: int, switches=(), note: str = "") -> BlockInput:
    quantities = {"virtual_numbers": vn, "mobile_apps": apps, "ukey2_keys": keys}
    quantities.update({code: 1 for code in switches})
    return BlockInput(key=key, id=None, kind="plus", valid_from=start, valid_until=end, quantities=quantities, note=note)


def _child(parent: Group, name: str, kind: str, actor: User, number: str = "") -> Group:
    existing = parent.get_children().filter(name=name).first()
    return existing or groups.group_create(parent=parent, name=name, kind=kind, number=number, actor=actor)


LOGINS = [
    Login("operator@example.com", "Server administrator (superuser)"),
    Login("distributor@northwind.example", "Company administrator of Northwind Intercom (also in the Django admin)"),
    Login("distributor@dnipro.example", "Company administrator of Dnipro Systems"),
    Login("dealer@kyivhomes.example", "Site administrator of the dealer Kyiv Homes"),
    Login("dealer@lvivbuild.example", "Site administrator of the dealer Lviv Build"),
    Login("concierge@kyivhomes.example", "Concierge of Riverside, Building 1"),
    Login("resident@example.com", "Resident of Riverside, Building 1, Apartment 1"),
]


@transaction.atomic
def seed_demo(*, today: date | None = None) -> tuple[bool, list[Login]]:
    """Create the demo once; returns (created now?, the logins)."""
    if Group.objects.filter(parent__isnull=True, name=MARKER).exists():
        return False, LOGINS
    today = today or services.today()
    operator = _user("operator@example.com", "Olena Operator", superuser=True)
    north_admin = _user("distributor@northwind.example", "Nadia Northwind", staff=True)
    dnipro_admin = _user("distributor@dnipro.example", "Dmytro Dnipro", staff=True, language="uk")
    kyiv_dealer = _user("dealer@kyivhomes.example", "Kyrylo Kyiv Homes")
    lviv_dealer = _user("dealer@lvivbuild.example", "Lesia Lviv Build", language="uk")
    concierge = _user("concierge@kyivhomes.example", "Cyril Concierge")
    resident = _user("resident@example.com", "Roman Resident")

    year = today + timedelta(days=365)
    layout = groups.GenerationPlan(buildings=2, units=0, floors=4, apartments_per_floor=4)

    def company(name: str, admin: User, dealers: list[tuple[str, User | None, list[str]]], pool: tuple[int, int, int]):
        root = groups.group_create(parent=None, name=name, kind=Group.Kind.COMPANY, actor=operator)
        groups.membership_add(group=root, user=admin, role=Role.COMPANY_ADMIN, actor=operator)
        # The vendor sells the distributor a year of Plus: a sourced root pool.
        services.licenses_save(
            group=root, actor=operator,
            settings=SettingsInput(restricted=True, reminder_enabled=True, reminder_days=30, recurrence="every_30_days"),
            blocks=[_plus("root", today, year, *pool, switches=ALL_SWITCHES, note="Annual Plus")])
        made = {}
        for dealer_name, dealer_admin, sites in dealers:
            dealer = _child(root, dealer_name, Group.Kind.DEALER, admin)
            if dealer_admin:
                groups.membership_add(group=dealer, user=dealer_admin, role=Role.SITE_ADMIN, actor=admin)
            services.licenses_save(
                group=dealer, actor=admin,
                settings=SettingsInput(restricted=True, reminder_enabled=True, reminder_days=14, recurrence="weekly"),
                blocks=[_plus("dealer", today, year - timedelta(days=30), 120, 100, 60,
                              switches=["remote_door_opening", "guest_access", "elevators", "sip_trunks"])])
            for site_name in sites:
                site = _child(dealer, site_name, Group.Kind.SITE, dealer_admin or admin)
                groups.groups_generate(parent=site, plan=layout, actor=dealer_admin or admin)
                made[site_name] = site
        return root, made

    north, north_sites = company("Northwind Intercom", north_admin, [
        ("Kyiv Homes", kyiv_dealer, ["Riverside", "Pechersk Towers"]),
        ("Odesa Living", None, ["Seaside"]),
    ], (600, 500, 300))
    dnipro, _dnipro_sites = company("Dnipro Systems", dnipro_admin, [
        ("Lviv Build", lviv_dealer, ["Rynok Square", "Sykhiv Park"]),
        ("Kharkiv Smart", None, ["Saltivka"]),
    ], (400, 300, 200))

    for site in north_sites.values():
        site.refresh_from_db()  # generation moved their nested-set columns
    riverside = north_sites["Riverside"]
    building = riverside.get_children().order_by("lft").first()
    groups.membership_add(group=building, user=concierge, role=Role.CONCIERGE, actor=kyiv_dealer)
    # Building 1 keeps its own pool carved from Kyiv Homes: one block ending within a week
    # (reminders go out daily), and one that already expired.
    services.licenses_save(
        group=building, actor=kyiv_dealer,
        settings=SettingsInput(restricted=True, reminder_enabled=True, reminder_days=7, recurrence="daily"),
        blocks=[
            _plus("ending", today - timedelta(days=60), today + timedelta(days=5), 20, 15, 10,
                  switches=["remote_door_opening", "guest_access"], note="Ends this week"),
            _plus("expired", today - timedelta(days=400), today - timedelta(days=35), 10, 10, 5, note="Last year's"),
        ])
    building.refresh_from_db()
    apartments = list(building.get_descendants().filter(kind=Group.Kind.APARTMENT).order_by("lft")[:6])
    for n, apartment in enumerate(apartments):
        services.device_register(group=apartment, serial_number=f"BAS-{apartment.pk:05d}", model="AV-07T",
                                 actor=kyiv_dealer) if n < 2 else None
        person = resident if n == 0 else _user(f"resident{n}@example.com", f"Resident {n}")
        groups.membership_add(group=apartment, user=person, role=Role.RESIDENT, actor=kyiv_dealer)
        services.grant_set(group=apartment, user=person, actor=kyiv_dealer,
                           quantities={"virtual_numbers": 2, "mobile_apps": 2, "ukey2_keys": 1,
                                       "remote_door_opening": 1})
    # A second site's building shares Kyiv Homes' pool; a few residents there too.
    pechersk = north_sites["Pechersk Towers"]
    for n, apartment in enumerate(pechersk.get_descendants().filter(kind=Group.Kind.APARTMENT).order_by("lft")[:4]):
        person = _user(f"tenant{n}@example.com", f"Tenant {n}", language="uk" if n % 2 else "en")
        groups.membership_add(group=apartment, user=person, role=Role.RESIDENT, actor=kyiv_dealer)
        services.grant_set(group=apartment, user=person, actor=kyiv_dealer,
                           quantities={"virtual_numbers": 1, "mobile_apps": 1, "guest_access": 1})
    for n, site in enumerate(north_sites.values()):
        services.device_register(group=site, serial_number=f"BAS-SITE-{n:03d}", model="AA-12", actor=north_admin)
    return True, LOGINS
