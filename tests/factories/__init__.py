"""Factories: a group factory sets name and parent, never the tree columns (mptt does)."""

import factory

from groups.models import Group, Membership, Role, User

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password(PASSWORD)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Company {n}")
    kind = Group.Kind.COMPANY
    parent = None


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")
    kind = Group.Kind.SITE
    parent = factory.SubFactory(CompanyFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    group = factory.SubFactory(GroupFactory)
    role = Role.SITE_ADMIN


def refresh(*groups: Group) -> None:
    """Tree writes move other rows' nested-set columns; re-read the ones a test holds."""
    for group in groups:
        group.refresh_from_db()
