"""The documents that go through approval (X-3). Apps register theirs in ``AppConfig.ready()``:

    from houqin.approvals.registry import register_document

    register_document(
        DisposalRequest,
        amount=lambda doc: doc.total_original_value,
        owner=lambda doc: doc.requested_by,
        department=lambda doc: doc.department,
    )

The approvals app knows a document only through this entry: its amount (the thresholds of the
school's policy are compared with it), its owner (told about the outcome), its department (for a
"head of department" step) and the two transitions the final decision fires: ``approve`` and
``reject``. Each is the name of a transition of the document's workflow, applied by the platform
(``check_perm=False``: the approval step is the authority), or a callable
``(document, actor, note) -> None`` when the app wants its own service to run instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

Fire = str | Callable[[models.Model, Any, str], Any]


def _default_amount(doc) -> Decimal | None:
    return getattr(doc, "amount", None)


def _default_owner(doc):
    return getattr(doc, "requested_by", None)


def _no_department(doc):
    return None


@dataclass(frozen=True)
class DocumentType:
    model: type[models.Model]
    approve: Fire = "approve"
    reject: Fire = "reject"
    amount: Callable[[models.Model], Decimal | None] = _default_amount
    owner: Callable[[models.Model], Any] = _default_owner
    department: Callable[[models.Model], Any] = _no_department
    label: Any = None

    @property
    def key(self) -> str:
        """``"app_label.model_name"``: what a policy stores as its document type."""
        return self.model._meta.label_lower

    @property
    def verbose_name(self) -> str:
        return str(self.label or self.model._meta.verbose_name)

    def amount_of(self, doc) -> Decimal | None:
        value = self.amount(doc)
        return None if value is None else Decimal(value)

    def fire(self, which: str, doc, *, actor, note: str = "") -> None:
        """Fire the document's ``approve`` or ``reject`` (a system transition: no permission check)."""
        target = self.approve if which == "approve" else self.reject
        if callable(target):
            target(doc, actor, note)
            return
        from houqin.core.workflow import workflows

        workflows[self.model].apply(doc, target, actor=actor, note=note, check_perm=False)

    def is_waiting(self, doc) -> bool:
        """Whether the document still stands where an approval can act on it (not cancelled meanwhile)."""
        if callable(self.approve):
            return True
        from houqin.core.workflow import workflows

        wf = workflows[self.model]
        return getattr(doc, wf.field) in wf.get(self.approve).sources(wf.states)


_documents: dict[str, DocumentType] = {}


def register_document(
    model: type[models.Model],
    *,
    approve: Fire = "approve",
    reject: Fire = "reject",
    amount: Callable[[models.Model], Decimal | None] = _default_amount,
    owner: Callable[[models.Model], Any] = _default_owner,
    department: Callable[[models.Model], Any] = _no_department,
    label: Any = None,
) -> DocumentType:
    """Declare that documents of ``model`` go through approval (call it from ``AppConfig.ready``)."""
    doctype = DocumentType(model=model, approve=approve, reject=reject, amount=amount, owner=owner,
                           department=department, label=label)
    _documents[doctype.key] = doctype
    return doctype


def document_type_for(obj_or_model) -> DocumentType | None:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return _documents.get(model._meta.label_lower)


def document_type_by_key(key: str) -> DocumentType | None:
    return _documents.get(key)


def document_types() -> list[DocumentType]:
    return sorted(_documents.values(), key=lambda d: d.key)
