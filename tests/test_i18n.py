"""The product in Ukrainian: the profile's language, the three plural forms, the switcher."""

import pytest
from django.utils import translation

from groups import services as group_services
from groups.models import Group, Role


@pytest.fixture(autouse=True)
def _back_to_english():
    # A request as a Ukrainian speaker leaves "uk" active in this thread; later tests read English.
    yield
    translation.deactivate()


@pytest.fixture
def ukrainian_admin(tree, person):
    return person(Role.COMPANY_ADMIN, tree["Company A"], email="olena@test.example", language="uk")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_ukrainian_speaker_reads_ukrainian_everywhere(tree, ukrainian_admin, client):
    client.force_login(ukrainian_admin)
    dealer = tree["Dealer A1"]

    dashboard = page(client, "/licenses/dashboard/")
    assert '<html lang="uk">' in dashboard
    for text in ("Панель керування", "Обсяг і використання", "Непрочитані сповіщення",
                 "Закінчення терміну дії в найближчі 90 днів", "Віртуальні номери", "Вийти"):
        assert text in dashboard, text
    for text in ("Capacity and use", "Unread notifications", "Log out", ">Dashboard<"):
        assert text not in dashboard, text

    groups = page(client, "/groups/")
    for text in ("<h1 class=\"h3 me-auto mb-0\">Групи</h1>", "Пошук за назвою або номером", "Знайти",
                 "Компанія", "(18 груп нижче)"):
        assert text in groups, text
    for text in ("Search by name or number", "groups below", ">Search<"):
        assert text not in groups, text

    licenses = page(client, f"/licenses/groups/{dealer.pk}/")
    for text in ("Додати нову ліцензію", "Увімкнути обмеження", "Зберегти", "Ліцензійні блоки",
                 "Нагадування про закінчення терміну дії ліцензії", "Користується пулом Company A.",
                 "Виділено підгрупам", "Використовують мешканці"):
        assert text in licenses, text
    for text in ("Add new license", "Enable restriction", ">Save<", "License blocks", "Held by sub-groups"):
        assert text not in licenses, text

    usage = page(client, "/licenses/reports/usage/")
    for text in ("Використання ліцензій за групами", "Завантажити CSV", "3 рядки", "<td>компанія</td>", "Фільтрувати"):
        assert text in usage, text
    for text in ("License usage per group", "Download CSV", "3 rows", "<td>company</td>"):
        assert text not in usage, text

    validity = page(client, "/licenses/reports/validity/")
    # The company's Trial block: its kind and state in Ukrainian too.
    for text in ("Термін дії ліцензій", "1 блок<", "Пробна", "закінчується", "Останнє сповіщення"):
        assert text in validity, text
    for text in ("License validity", "1 block<", ">Trial<", ">ending<", "Last notified at"):
        assert text not in validity, text


def test_an_english_speaker_still_reads_english(tree, person, client):
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="nadia@test.example", language="en")
    client.force_login(admin)
    groups = page(client, "/groups/")
    assert '<html lang="en">' in groups and "(18 groups below)" in groups and "Групи" not in groups
    licenses = page(client, f"/licenses/groups/{tree['Dealer A1'].pk}/")
    assert "Add new license" in licenses and "Enable restriction" in licenses
    assert "Додати нову ліцензію" not in licenses


def test_three_plural_forms(operator, person, client):
    company = group_services.group_create(parent=None, name="Plural Co", kind=Group.Kind.COMPANY, actor=operator)
    for size in (1, 3, 5):
        holder = group_services.group_create(parent=company, name=f"Holds {size}", kind=Group.Kind.CUSTOM,
                                             actor=operator)
        for n in range(size):
            group_services.group_create(parent=holder, name=f"Leaf {size}-{n}", kind=Group.Kind.CUSTOM,
                                        actor=operator)
    reader = person(Role.COMPANY_ADMIN, Group.objects.get(pk=company.pk), email="p@test.example", language="uk")
    client.force_login(reader)

    detail = page(client, f"/groups/{company.pk}/")
    assert "(1 група нижче)" in detail  # one
    assert "(3 групи нижче)" in detail  # few
    assert "(5 груп нижче)" in detail  # many
    tree_page = page(client, "/groups/")
    assert "(12 груп нижче)" in tree_page  # 3 holders + 9 leaves: 12 takes the "many" form

    # The catalogue's Plural-Forms, beyond 1/3/5: 11-14 are "many", 21 is "one", 22 is "few".
    with translation.override("uk"):
        rows = {n: translation.ngettext("%(n)s row", "%(n)s rows", n) % {"n": n} for n in (0, 1, 2, 5, 11, 12, 21, 22, 25)}
    assert rows == {0: "0 рядків", 1: "1 рядок", 2: "2 рядки", 5: "5 рядків", 11: "11 рядків", 12: "12 рядків",
                    21: "21 рядок", 22: "22 рядки", 25: "25 рядків"}


def test_the_usage_report_counts_rows_in_ukrainian(tree, ukrainian_admin, client):
    client.force_login(ukrainian_admin)
    # Company A's own pool: one row per counted feature (three of them) ...
    assert "3 рядки" in page(client, "/licenses/reports/usage/")
    # ... and one when the report is narrowed to one feature.
    assert "1 рядок" in page(client, "/licenses/reports/usage/?feature=virtual_numbers")


def test_the_language_switcher_saves_the_choice_on_the_profile(tree, person, client):
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="switch@test.example", language="en")
    client.force_login(admin)
    before = page(client, "/groups/")
    assert '<option value="uk" lang="uk">Українська</option>' in before
    assert '<option value="en" lang="en" selected>English</option>' in before

    response = client.post("/language/", {"language": "uk", "next": "/groups/"})
    assert response.status_code == 302 and response.url == "/groups/"
    admin.refresh_from_db()
    assert admin.language == "uk"
    after = page(client, response.url)
    assert '<html lang="uk">' in after and "Групи" in after and "Пошук за назвою або номером" in after
    assert "Search by name or number" not in after
    # The switcher names each language in that language, and the button speaks Ukrainian now.
    assert '<option value="uk" lang="uk" selected>Українська</option>' in after
    assert '<option value="en" lang="en">English</option>' in after and ">Змінити</button>" in after

    response = client.post("/language/", {"language": "en", "next": "/groups/"})
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.language == "en"
    back = page(client, "/groups/")
    assert '<html lang="en">' in back and "Search by name or number" in back and "Пошук" not in back


def test_an_unknown_language_or_foreign_next_changes_nothing(tree, person, client):
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="keep@test.example", language="en")
    client.force_login(admin)
    response = client.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"
    admin.refresh_from_db()
    assert admin.language == "en"


def test_messages_from_the_services_are_translated(tree, ukrainian_admin, client):
    client.force_login(ukrainian_admin)
    apartment = tree.apartment("Site A1")
    response = client.get(f"/groups/new/?parent={apartment.pk}", follow=True)
    assert "це квартира: у ній можуть бути мешканці та пристрої, але не групи." in response.content.decode()


def test_dates_follow_the_persons_language(tree, operator, client):
    from datetime import date

    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("uk"):
        assert date_format(date(2027, 3, 31), "SHORT_DATE_FORMAT") == "31.03.2027"
    with translation.override("en"):
        assert date_format(date(2027, 3, 31), "SHORT_DATE_FORMAT") == "2027-03-31"
    operator.language = "uk"
    operator.save()
    client.force_login(operator)
    page = client.get("/licenses/dashboard/").content.decode()
    today = date_format(__import__("licenses.services", fromlist=["today"]).today(), "d.m.Y")
    assert today in page
