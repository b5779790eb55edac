"""Data and helpers shared by the browser tests of the reports, the dashboard and the pages
around them (tests/e2e/test_reports_*.py).

`license_landscape` lays out, on top of the `tree` fixture (each company has its Trial block
of 10 of each counted feature for 30 days, so it ends within the next 90 days):

- Company A: a Plus pool with no end (100 virtual numbers, 80 apps, 50 UKEY2 keys).
- Dealer A1: restricted, 20 virtual numbers and 10 apps until today + 40.
- Site A1: restricted, 18 virtual numbers until today + 10 (Dealer A1 is at 90% for them).
- Rita, a resident of Site A1's first apartment, uses 2 of Site A1's virtual numbers.
- Dealer A2: restricted, 30 virtual numbers and 5 apps until today + 20 (another dealer).
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from groups.models import Group, Role, User
from licenses import services
from licenses.models import LicenseBlock
from tests.e2e.licenses_support import give_company_pool, restrict_with_block

BLOCKING = {"serious", "critical"}


@dataclass
class Landscape:
    today: date
    dealer_a1_block: LicenseBlock
    site_a1_block: LicenseBlock
    dealer_a2_block: LicenseBlock
    rita: User

    @property
    def dealer_a1_until(self) -> date:
        return self.dealer_a1_block.valid_until

    @property
    def site_a1_until(self) -> date:
        return self.site_a1_block.valid_until


def license_landscape(tree, operator, person) -> Landscape:
    today = services.today()
    give_company_pool(tree, operator, until=None)
    dealer_a1 = restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 20, "mobile_apps": 10},
                                    until=today + timedelta(days=40))
    site_a1 = restrict_with_block(tree["Site A1"], operator, {"virtual_numbers": 18}, until=today + timedelta(days=10))
    dealer_a2 = restrict_with_block(tree["Dealer A2"], operator, {"virtual_numbers": 30, "mobile_apps": 5},
                                    until=today + timedelta(days=20))
    apartment = tree.apartment("Site A1")
    rita = person(Role.RESIDENT, apartment, email="rita@test.example", name="Rita Resident")
    services.grant_set(group=apartment, user=rita, quantities={"virtual_numbers": 2}, actor=operator)
    return Landscape(today, dealer_a1, site_a1, dealer_a2, rita)


def restrict_empty(group: Group, actor) -> None:
    """Switch `group`'s restriction on with no block of its own: a pool of nothing."""
    services.licenses_save(group=group, settings=services.SettingsInput(restricted=True), blocks=[], actor=actor)


def table_rows(page: Page, table_id: str, *, section: str = "tbody") -> list[list[str]]:
    """The text of each cell (header cells included) of the rows of a table's body or footer."""
    return page.locator(f"#{table_id} > {section} > tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")


def download_csv(page: Page, link_name: str = "Download CSV") -> list[dict[str, str]]:
    """Click the download link as a person would and read the file that arrives."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    with open(download.path(), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def serious_violations(page: Page, axe: Axe) -> list[str]:
    results = axe.run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING:
            targets = "; ".join(", ".join(n["target"]) + " — " + n["html"][:160] for n in v["nodes"])
            found.append(f"[{v['impact']}] {v['id']}: {v['help']} ({targets})")
    return found
