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


@transaction.atomic
def object_void(*, obj: models.Model, reason: str, actor) -> models.Model:
    """Void a ledger record (X-2): it stays, marked with who, when and why; hidden by default."""
    from django.core.exceptions import ValidationError
    from django.core.validators import ProhibitNullCharactersValidator
    from django.utils import timezone
    from django.utils.translation import gettext as _

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"void_reason": _("Give the reason for voiding.")})
    try:  # what a form's text field refuses (PostgreSQL cannot store it; the reason comes straight from the post)
        ProhibitNullCharactersValidator()(reason)
    except ValidationError as exc:
        raise ValidationError({"void_reason": exc.messages}) from None
    obj = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if obj.voided_at is not None:
        raise ValidationError(_("This record is already voided."))
    before = serialize_for_audit(obj)
    obj.voided_at = timezone.now()
    obj.voided_by = actor
    obj.void_reason = reason[:200]
    obj.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit_record(obj=obj, action=AuditEntry.Action.VOID, actor=actor, before=before,
                 after=serialize_for_audit(obj), message=reason)
    return obj


@transaction.atomic
def object_delete(*, obj: models.Model, actor) -> None:
    """Plain delete, only for records whose entity allows it; the audit entry keeps the last state."""
    from django.core.exceptions import ValidationError
    from django.db.models import ProtectedError
    from django.utils.translation import gettext as _

    before = serialize_for_audit(obj)
    audit_record(obj=obj, action=AuditEntry.Action.DELETE, actor=actor, before=before)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError:
        raise ValidationError(_("This record is still used by other records and cannot be deleted.")) from None
