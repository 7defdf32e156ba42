"""Workflows: a declarative transition table per document type (architecture §4.6).

    request_flow = Workflow(model=Request, transitions=[
        T("submit", Request.Status.DRAFT, Request.Status.SUBMITTED, _("Submit"), perm="x.add_request"),
        T("approve", Request.Status.SUBMITTED, Request.Status.APPROVED, _("Approve"), perm="x.approve_request"),
    ], colors={"draft": "secondary", "submitted": "azure", "approved": "green"})

``Workflow.apply(obj, name, actor=…, note=…)`` locks the row, checks the state, the permission and
the guard, and **raises** ``TransitionNotAllowed`` with a clear message when refused (never a silent
no-op); then it sets the state, writes one ``StatusChange`` row and the audit entry, all in one
transaction. From the same table come the detail-page buttons, the transition URLs and API actions
(``Entity.workflow``), the state diagram on ``/docs/workflows/`` and a test walking every
state × transition pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .audit import audit_record, serialize_for_audit
from .models import AuditEntry, StatusChange


class TransitionNotAllowed(Exception):
    """A refused transition; the message is shown to the user (and returned as a 400 by the API)."""


@dataclass(frozen=True)
class T:
    """One transition: name, source state(s) ("*" for any), target, label, permission, guard."""

    name: str
    source: Any  # a state, a tuple of states, or "*"
    target: str
    label: Any = ""
    perm: str | None = None
    guard: Callable[[models.Model, Any], str | None] | None = None  # (obj, actor) -> refusal message
    style: str = "outline-primary"
    confirm: Any = ""
    needs_note: bool = False  # a reason is required (reject, cancel)
    system: bool = False  # fired by the platform (e.g. the final approval), never a button

    def sources(self, states: Iterable[str]) -> tuple[str, ...]:
        if self.source == "*":
            return tuple(states)
        return tuple(self.source) if isinstance(self.source, list | tuple | set | frozenset) else (self.source,)


@dataclass
class Workflow:
    model: type[models.Model]
    transitions: list[T]
    field: str = "status"
    colors: dict[str, str] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate transition names in {self.model.__name__}'s workflow")
        states = set(self.states)
        for t in self.transitions:
            unknown = (set(t.sources(states)) | {t.target}) - states
            if unknown:
                raise ValueError(f"{self.model.__name__}.{t.name}: unknown states {sorted(unknown)}")
        workflows[self.model] = self

    # the table ------------------------------------------------------------------------------------
    @property
    def states(self) -> list[str]:
        return [value for value, _label in self.model._meta.get_field(self.field).choices]

    def state_label(self, state: str) -> str:
        return str(dict(self.model._meta.get_field(self.field).choices).get(state, state))

    def get(self, name: str) -> T:
        for t in self.transitions:
            if t.name == name:
                return t
        raise TransitionNotAllowed(_("Unknown action “%(name)s”.") % {"name": name})

    def refusal(self, obj, t: T, actor, *, check_perm: bool = True) -> str | None:
        """Why ``actor`` may not apply ``t`` to ``obj`` now, or None when allowed."""
        state = getattr(obj, self.field)
        if state not in t.sources(self.states):
            return _("“%(action)s” is not possible while the record is %(state)s.") % {
                "action": t.label or t.name, "state": self.state_label(state)}
        if check_perm and t.perm and not (actor is not None and actor.has_perm(t.perm)):
            return _("You are not allowed to %(action)s this record.") % {"action": t.label or t.name}
        if t.guard is not None:
            message = t.guard(obj, actor)
            if message:
                return str(message)
        return None

    def available(self, obj, user) -> list[T]:
        """The transitions ``user`` may apply to ``obj`` now: the buttons of the detail page."""
        return [t for t in self.transitions if not t.system and self.refusal(obj, t, user) is None]

    # the one write path -------------------------------------------------------------------------------
    def apply(self, obj, name: str, *, actor, note: str = "", check_perm: bool = True,
              update: dict | None = None) -> models.Model:
        """Lock, check, set the state (and ``update`` fields), record StatusChange and audit."""
        t = self.get(name)
        with transaction.atomic():
            locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
            message = self.refusal(locked, t, actor, check_perm=check_perm)
            if message:
                raise TransitionNotAllowed(message)
            if t.needs_note and not (note or "").strip():
                raise TransitionNotAllowed(_("Give the reason."))
            before = serialize_for_audit(locked)
            source = getattr(locked, self.field)
            setattr(locked, self.field, t.target)
            fields = [self.field]
            for key, value in (update or {}).items():
                setattr(locked, key, value)
                fields.append(key)
            if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
                fields.append("updated_at")
            locked.save(update_fields=fields)
            StatusChange.objects.create(
                school_id=getattr(locked, "school_id", None),
                content_type=ContentType.objects.get_for_model(locked, for_concrete_model=False),
                object_id=str(locked.pk), transition=t.name, from_state=source, to_state=t.target,
                actor=actor if getattr(actor, "pk", None) else None, note=(note or "")[:500],
            )
            audit_record(obj=locked, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
                         after=serialize_for_audit(locked), message=f"{t.label or t.name}: {note}".strip(": "))
        for f in locked._meta.concrete_fields:
            setattr(obj, f.attname, getattr(locked, f.attname))
        return obj

    # the diagram ----------------------------------------------------------------------------------------
    def diagram_svg(self) -> str:
        """States on a circle, transitions as labelled arrows: a small inline SVG for the docs page."""
        states = self.states
        n = len(states)
        width, height = 760, 120 + 90 * max(2, math.ceil(n / 2))
        cx, cy = width / 2, height / 2
        rx, ry = width / 2 - 110, height / 2 - 50
        pos = {s: (cx + rx * math.cos(2 * math.pi * i / n - math.pi / 2),
                   cy + ry * math.sin(2 * math.pi * i / n - math.pi / 2)) for i, s in enumerate(states)}
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
                 f'aria-label="{escape(self.model._meta.verbose_name)}" class="workflow-diagram">',
                 '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                 'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#334155"/>'
                 "</marker></defs>"]
        for t in self.transitions:
            for s in t.sources(states):
                if s == t.target:
                    continue
                (x1, y1), (x2, y2) = pos[s], pos[t.target]
                dx, dy = x2 - x1, y2 - y1
                length = math.hypot(dx, dy) or 1
                sx, sy = x1 + dx / length * 55, y1 + dy / length * 22
                ex, ey = x2 - dx / length * 55, y2 - dy / length * 22
                # bend each arrow a little to the right so two-way transitions do not overlap
                mx, my = (sx + ex) / 2 - dy / length * 18, (sy + ey) / 2 + dx / length * 18
                parts.append(f'<path d="M {sx:.0f} {sy:.0f} Q {mx:.0f} {my:.0f} {ex:.0f} {ey:.0f}" fill="none" '
                             'stroke="#334155" stroke-width="1.5" marker-end="url(#arrow)"/>')
                parts.append(f'<text x="{mx:.0f}" y="{my:.0f}" font-size="12" text-anchor="middle" '
                             f'fill="#1e293b">{escape(t.label or t.name)}</text>')
        for s, (x, y) in pos.items():
            parts.append(f'<rect x="{x - 55:.0f}" y="{y - 20:.0f}" width="110" height="40" rx="8" '
                         'fill="#e0f2fe" stroke="#0c4a6e"/>')
            parts.append(f'<text x="{x:.0f}" y="{y + 5:.0f}" font-size="14" text-anchor="middle" '
                         f'fill="#0c4a6e">{escape(self.state_label(s))}</text>')
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


workflows: dict[type[models.Model], Workflow] = {}
