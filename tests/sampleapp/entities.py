from houqin.core import entities as e

from .models import LedgerLine


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
