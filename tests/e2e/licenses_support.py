"""Helpers shared by the browser tests of the license pages (tests/e2e/test_licenses_*.py)."""

from datetime import date

from playwright.sync_api import Page, expect

from licenses import services
from licenses.models import BlockFeature, LicenseBlock
from licenses.services import BlockInput, SettingsInput

BIG_POOL = {"virtual_numbers": 100, "mobile_apps": 80, "ukey2_keys": 50, "remote_door_opening": 1}
COLUMNS = ["Feature", "Limit", "Held by sub-groups", "Used by residents", "Available"]


def iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def give_company_pool(tree, operator, *, until: date | None) -> date:
    """The server administrator sells Company A a big Plus block (on top of its Trial)."""
    today = services.today()
    services.licenses_save(
        group=tree["Company A"], settings=SettingsInput(restricted=True),
        blocks=[BlockInput(key="b", id=None, kind="plus", valid_from=today, valid_until=until,
                           quantities=BIG_POOL)],
        actor=operator)
    return today


def restrict_with_block(group, actor, quantities: dict[str, int], *, until: date | None = None) -> LicenseBlock:
    """Switch `group`'s restriction on with one Plus block from today, through the service."""
    services.licenses_save(
        group=group, settings=SettingsInput(restricted=True),
        blocks=[BlockInput(key="b", id=None, kind="plus", valid_from=services.today(), valid_until=until,
                           quantities=quantities)],
        actor=actor)
    return LicenseBlock.objects.get(group=group, device__isnull=True)


def dealer_and_site_pools(tree, operator) -> date:
    """Company A's big pool; Dealer A1 gets 20 virtual numbers and 10 app installs for 90 days,
    Site A1 5 and 5 of them for 30 days. Returns today."""
    from datetime import timedelta

    today = give_company_pool(tree, operator, until=None)
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 20, "mobile_apps": 10},
                        until=today + timedelta(days=90))
    restrict_with_block(tree["Site A1"], operator, {"virtual_numbers": 5, "mobile_apps": 5},
                        until=today + timedelta(days=30))
    return today


def quantities(block: LicenseBlock) -> dict[str, int]:
    return {bf.feature.code: bf.quantity
            for bf in BlockFeature.objects.filter(block=block, quantity__gt=0).select_related("feature")}


def own_blocks(group) -> list[LicenseBlock]:
    return list(LicenseBlock.objects.filter(group=group, device__isnull=True).order_by("valid_from", "pk"))


def cards(page: Page):
    """The block cards a person sees (a new card removed before saving is hidden)."""
    return page.locator("#blocks details[data-block-card]:visible")


def block_error(card):
    """The errors shown in a block card: at its top, or at the field they concern."""
    return card.locator(".block-errors, .invalid-feedback")


def status_row(page: Page, feature_label: str):
    table = page.get_by_role("table", name="Pool status today")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=feature_label, exact=True))


def expect_status(page: Page, feature_label: str, limit: int, held: int, used: int, available: int) -> None:
    """The status row of a counted feature: limit, held by sub-groups, used by residents, available."""
    expect(status_row(page, feature_label).get_by_role("cell")).to_have_text(
        [str(limit), str(held), str(used), str(available)])


def open_licenses(page: Page, live_server, group) -> None:
    page.goto(f"{live_server.url}/licenses/groups/{group.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(group.name)


def restrict_and_add(page: Page, live_server, group):
    """Open `group`'s Licenses section, switch Enable restriction on and add one new card;
    returns the Add new license button (for more cards)."""
    open_licenses(page, live_server, group)
    page.get_by_role("switch", name="Enable restriction").check()
    add = page.get_by_role("button", name="Add new license")
    add.click()
    return add


def fill_card(card, *, vn=None, apps=None, ukey=None, valid_from=None, valid_until=None, switches=(), note=None):
    if valid_from is not None:
        card.get_by_label("Valid from").fill(iso(valid_from))
    if valid_until is not None:
        card.get_by_label("Valid until").fill(iso(valid_until))
    for label, value in (("Virtual numbers", vn), ("Mobile app installs", apps), ("UKEY2 keys", ukey)):
        if value is not None:
            card.get_by_label(label, exact=True).fill(str(value))
    for label in switches:
        card.get_by_label(label, exact=True).check()
    if note is not None:
        card.get_by_label("Note").fill(note)


def saved_message(page: Page, text: str = "Licenses saved."):
    return page.get_by_role("alert").filter(has_text=text)
