from django.db import transaction

from houqin.core import entities as e

from .models import LedgerLine, SampleRequest
from .workflows import request_flow


@e.register
class LedgerLineEntity(e.Entity):
    model = LedgerLine
    list_columns = ("code", "description", "kind", "amount", "quantity", "happened_on", "room", "paid")
    search_fields = ("code", "description")
    filter_fields = ("kind", "happened_on", "room", "paid")
    form_fields = ("code", "description", "kind", "amount", "quantity", "happened_on", "room", "paid")
    import_fields = ("code", "description", "kind", "amount", "quantity", "happened_on", "room", "paid")
    import_key = "code"
    natural_keys = {"room": "code"}
    select_related = ("room",)
    deletion = e.VOID
    title_field = "code"
    example_row = {"code": "L001", "description": "粉笔", "kind": "入库", "amount": "12.50", "quantity": 10,
                   "happened_on": "2026-09-01", "paid": "是"}


@e.register
class SampleRequestEntity(e.Entity):
    model = SampleRequest
    list_columns = ("title", "amount", "requested_by", "status")
    search_fields = ("title",)
    filter_fields = ("status",)
    form_fields = ("title", "amount")
    workflow = request_flow
    title_field = "title"

    def create(self, *, data, actor, school):
        return super().create(data={**data, "requested_by": actor}, actor=actor, school=school)

    def transition(self, *, obj, name, actor, note=""):
        """Submitting starts the approval (X-3) in the same transaction; cancelling withdraws it."""
        from houqin.approvals.services import approval_request_create, approval_request_withdraw

        with transaction.atomic():
            obj = super().transition(obj=obj, name=name, actor=actor, note=note)
            if name == "submit":
                approval_request_create(document=obj, actor=actor)
            elif name == "cancel":
                approval_request_withdraw(document=obj, actor=actor, note=note)
        return obj
