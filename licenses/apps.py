from django.apps import AppConfig


class LicensesConfig(AppConfig):
    name = "licenses"

    def ready(self) -> None:
        from groups import services as group_services

        from . import services

        group_services.register_tree_change_check(services.tree_change_check)
        group_services.register_company_created_hook(services.issue_trial)
