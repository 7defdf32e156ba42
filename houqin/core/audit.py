"""Audit entries written explicitly by services in the same transaction (architecture §4.7)."""

import datetime
import decimal
import uuid
from contextvars import ContextVar

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEntry

_request_id: ContextVar[str] = ContextVar("houqin_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str | None = None) -> object:
    """Bind a request id (one per HTTP request, import or job); returns a token for reset."""
    return _request_id.set(value or str(uuid.uuid4()))


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def _jsonable(value):
    if isinstance(value, decimal.Decimal):
        return str(value)  # never float (unlike InvenTree's deltas)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return value


def serialize_for_audit(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Snapshot of the concrete fields of ``obj``; foreign keys as ids, Decimal as strings."""
    key = (obj.__class__, tuple(exclude))
    names = _snapshot_fields.get(key)
    if names is None:
        names = _snapshot_fields[key] = [
            (f.name, f.attname) for f in obj._meta.concrete_fields
            if f.name not in exclude and f.name not in ("password", "created_at", "updated_at")]
    data = {}
    for name, attname in names:
        value = getattr(obj, attname)
        data[name] = value if value is None or type(value) in _AS_IS else _jsonable(value)
    return data


_AS_IS = (str, int, bool, float)  # what _jsonable returns unchanged
_snapshot_fields: dict = {}


def diff(before: dict | None, after: dict | None) -> list[str]:
    before = before or {}
    after = after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _school_id(obj: models.Model):
    if hasattr(obj, "school_id"):
        return obj.school_id
    return None


def audit_record(
    *,
    obj: models.Model,
    action: str,
    actor,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
) -> AuditEntry:
    """Write one audit entry for ``obj``. Call it inside the service's transaction."""
    return AuditEntry.objects.create(**_entry_kwargs(obj, action, actor, before, after, message))


def audit_bulk(entries: list[tuple[models.Model, str, dict | None, dict | None]], *, actor, message="") -> None:
    """Bulk audit entries (imports): one per row, sharing the current request id."""
    from .bulk import insert_rows

    insert_rows(AuditEntry, audit_rows(entries, actor=actor, message=message))


def audit_rows(entries, *, actor, message="") -> list[dict]:
    """The rows ``audit_bulk`` inserts: ``_entry_kwargs`` of each entry, with what the entries share (actor,
    request id, message, record type) worked out once instead of once per row."""
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    request_id = current_request_id()
    message = str(message)[:500]
    types: dict = {}
    rows = []
    for obj, action, before, after in entries:
        kind = obj.__class__
        content_type = types.get(kind)
        if content_type is None:
            content_type = types[kind] = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        rows.append(_row(obj, action, before, after, content_type=content_type, actor=actor,
                         request_id=request_id, message=message))
    return rows


def _row(obj, action, before, after, *, content_type, actor, request_id, message) -> dict:
    """The fields of one audit entry (a single write or one row of a bulk write)."""
    return {
        "school_id": _school_id(obj),
        "content_type": content_type,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
        "action": action,
        "before": before,
        "after": after,
        "changed_fields": diff(before, after) if action == AuditEntry.Action.UPDATE else [],
        "actor": actor,
        "request_id": request_id,
        "message": message,
    }


def _entry_kwargs(obj, action, actor, before, after, message):
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    return _row(obj, action, before, after, actor=actor, request_id=current_request_id(), message=str(message)[:500],
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False))


def history_for(obj: models.Model):
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor")
