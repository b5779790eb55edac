"""Switching the interface to Ukrainian from the navigation bar, as a company administrator would."""

import re

import pytest
from playwright.sync_api import expect

from groups.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_company_admin_switches_to_ukrainian_and_reads_it_everywhere(company_admin, browser_login, live_server):
    page = browser_login(company_admin)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_label("Language").select_option(label="Українська")
    nav.get_by_role("button", name="Switch").click()

    # The same page again, now in Ukrainian; the choice is kept on the profile.
    expect(page).to_have_url(re.compile(r"/licenses/dashboard/$"))
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.get_by_role("heading", name="Панель керування")).to_be_visible()
    expect(page.get_by_role("heading", name="Обсяг і використання")).to_be_visible()
    assert User.objects.get(pk=company_admin.pk).language == "uk"

    nav = page.get_by_role("navigation", name="Основна навігація")
    nav.get_by_role("link", name="Групи").click()
    expect(page.get_by_role("heading", name="Групи", exact=True)).to_be_visible()
    tree_box = page.locator("#tree")
    expect(tree_box.get_by_text("(18 груп нижче)")).to_be_visible()
    expect(page.get_by_role("button", name="Знайти")).to_be_visible()

    # Company A's page, then Dealer A1's, then its Licenses section.
    tree_box.get_by_role("link", name="Company A").click()
    expect(page.get_by_role("heading", name="Групи нижче")).to_be_visible()
    page.locator(".tree").get_by_role("link", name="Dealer A1").click()
    page.get_by_role("link", name="Ліцензії", exact=True).click()
    expect(page.get_by_role("button", name="Додати нову ліцензію")).to_be_visible()
    expect(page.get_by_role("button", name="Зберегти")).to_be_visible()
    expect(page.get_by_label("Увімкнути обмеження")).to_be_visible()
    expect(page.get_by_text("Add new license")).to_have_count(0)

    # Adding a card works in Ukrainian too: it is a "Нова ліцензія".
    page.get_by_role("button", name="Додати нову ліцензію").click()
    expect(page.locator("details[data-block-card]:not([hidden])").last).to_contain_text("Нова ліцензія")

    # And back to English from the same switcher, which names each language in that language.
    nav = page.get_by_role("navigation", name="Основна навігація")
    nav.get_by_label("Мова").select_option(label="English")
    nav.get_by_role("button", name="Змінити").click()
    expect(page.get_by_role("button", name="Add new license")).to_be_visible()
    assert User.objects.get(pk=company_admin.pk).language == "en"
