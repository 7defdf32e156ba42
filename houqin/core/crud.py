"""Default write services: validate, save and audit in one transaction (architecture §4.4, §4.7)."""

from django.db import models, transaction

from .audit import audit_record, serialize_for_audit
from .models import AuditEntry


@transaction.atomic
def object_create(*, obj: models.Model, actor, message: str = "", m2m: dict | None = None) -> models.Model:
    obj.full_clean()
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    audit_record(obj=obj, action=AuditEntry.Action.CREATE, actor=actor, after=serialize_for_audit(obj), message=message)
    return obj


@transaction.atomic
def object_update(
    *, obj: models.Model, data: dict, actor, message: str = "", m2m: dict | None = None
) -> tuple[models.Model, list[str]]:
    """Apply ``data`` to ``obj`` (HackSoft ``model_update``); returns the changed field names."""
    before = serialize_for_audit(obj)
    for name, value in data.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    after = serialize_for_audit(obj)
    changed = sorted(k for k in after if before.get(k) != after.get(k))
    if changed or m2m:
        audit_record(obj=obj, action=AuditEntry.Action.UPDATE, actor=actor, before=before, after=after, message=message)
    return obj, changed
