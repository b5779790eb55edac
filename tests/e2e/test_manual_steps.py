"""The original product's manual, step by step by its visible labels, in English and Ukrainian:

1. Click Edit next to the selected group. 2. Navigate to the Licenses section. 3. Check Enable
restriction. 4. Check Reminder of the end of the license period. 5. Specify the notification
frequency in days. 6. Choose the recurrence. 7. Click the green Add new license button.
8. Configure the new license block. 9. Click the Save icon in the lower-right corner."""

from datetime import timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from licenses.models import Feature, PoolSettings, Recurrence
from tests.e2e.licenses_support import cards, give_company_pool, own_blocks, quantities

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "uk"])
def test_the_manuals_nine_steps_by_their_visible_labels(tree, person, operator, browser_login, live_server,
                                                        language):
    give_company_pool(tree, operator, until=None)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", language=language)
    today = services.today()
    with translation.override(language):
        label = {text: _(text) for text in (
            "Edit", "Licenses", "Enable restriction", "Reminder of the end of the license period",
            "Days before expiry", "Recurrence", "Weekly", "Add new license", "Valid until", "Save",
            "Licenses saved.")}
        # Features are named by the catalogue (data), in the reader's language.
        label.update({f.code: f.label for f in Feature.objects.all()})
    page = browser_login(admin)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/groups/")
    page.get_by_role("button", name=f"{'Open' if language == 'en' else 'Відкрити'} Company A").click()

    # 1. Edit next to the selected group.
    row = page.locator(".tree-row").filter(has=page.get_by_role("link", name="Dealer A1", exact=True))
    row.get_by_role("link", name=label["Edit"], exact=True).click()
    # 2. The Licenses section.
    page.get_by_role("navigation").get_by_role("link", name=label["Licenses"], exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{tree['Dealer A1'].pk}/")
    # 3. Enable restriction; 4. the reminder; 5. days; 6. recurrence.
    page.get_by_role("switch", name=label["Enable restriction"]).check()
    page.get_by_label(label["Reminder of the end of the license period"]).check()
    page.get_by_label(label["Days before expiry"]).fill("21")
    page.get_by_label(label["Recurrence"]).select_option(label=label["Weekly"])
    # 7. The green Add new license button.
    add = page.get_by_role("button", name=label["Add new license"])
    expect(add).to_have_class(r"btn btn-success mb-3")
    add.click()
    # 8. The new block's settings.
    card = cards(page).last
    card.get_by_label(label["virtual_numbers"], exact=True).fill("12")
    card.get_by_label(label["mobile_apps"], exact=True).fill("8")
    card.get_by_label(label["Valid until"]).fill((today + timedelta(days=180)).isoformat())
    # 9. The Save icon in the lower-right corner.
    save = page.get_by_role("button", name=label["Save"])
    box = save.bounding_box()
    assert box["x"] > 1366 / 2 and box["y"] > 768 / 2
    save.click()

    expect(page.get_by_role("alert").filter(has_text=label["Licenses saved."])).to_be_visible()
    settings = PoolSettings.objects.get(group=tree["Dealer A1"])
    assert (settings.restricted, settings.reminder_enabled, settings.reminder_days, settings.recurrence) == (
        True, True, 21, Recurrence.WEEKLY)
    [block] = own_blocks(tree["Dealer A1"])
    assert quantities(block) == {"virtual_numbers": 12, "mobile_apps": 8}
    assert block.valid_until == today + timedelta(days=180)
