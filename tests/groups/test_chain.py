"""A group's ancestors by the parent links agree with the nested sets, wherever the group sits."""

import pytest

from groups.chain import chain_ids
from groups.models import Group


@pytest.mark.django_db
def test_the_chain_is_the_group_and_its_ancestors(tree):
    for group in Group.objects.all():
        expected = set(group.get_ancestors(include_self=True).values_list("pk", flat=True))
        assert set(Group.objects.filter(pk__in=chain_ids(group.pk)).values_list("pk", flat=True)) == expected
        above = set(Group.objects.filter(pk__in=chain_ids(group.pk, include_self=False)).values_list("pk", flat=True))
        assert above == expected - {group.pk}
