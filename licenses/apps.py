from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = _("Licenses")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from groups import services as group_services

        from . import services, totals
        from .models import Grant

        pre_delete.connect(totals.grant_deleted, sender=Grant, dispatch_uid="licenses.totals.grant_deleted")

        group_services.register_tree_change_check(services.tree_change_check)
        group_services.register_company_created_hook(services.issue_trial)
