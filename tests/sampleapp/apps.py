from django.apps import AppConfig


class SampleAppConfig(AppConfig):
    """A ledger used only by the tests of the entity machinery: every field kind, voidable.

    Installed by ``houqin.settings_test`` only; it exercises what the org records do not (void,
    Decimal money, dates, choices) until the first domain ledger arrives.
    """

    name = "tests.sampleapp"
    label = "sampleapp"
    verbose_name = "Sample ledger"

    def ready(self) -> None:
        from houqin.core.registry import registry

        from . import entities  # noqa: F401

        registry.grant(["logistics_director"], [
            "sampleapp.view_ledgerline", "sampleapp.add_ledgerline", "sampleapp.change_ledgerline",
            "sampleapp.void_ledgerline",
        ])
        registry.grant(["logistics_clerk"], ["sampleapp.view_ledgerline"])
        request_perms = ["sampleapp.view_samplerequest", "sampleapp.add_samplerequest", "sampleapp.change_samplerequest"]
        registry.grant(["teacher", "class_teacher", "logistics_clerk", "logistics_director"], request_perms)
        registry.grant(["logistics_director", "principal"], ["sampleapp.view_samplerequest",
                                                             "sampleapp.approve_samplerequest"])
