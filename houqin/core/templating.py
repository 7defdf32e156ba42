"""Django's template backend, with each rendering's context freed as soon as the page is rendered.

A template's ``Context`` and the dicts pushed onto it point at each other (``ContextDict.context``), so the
context — and everything its dicts hold: a list page's 50 cards with their rooms, custodians and categories,
its rows, its page and paginator — is a reference cycle, which only Python's cyclic garbage collector frees,
in a later request's time. A list page left ~600 objects per request to it (bench/assets.py: ~0.25 ms of
collection per list request). ``render`` here drops each dict's back-reference once the page is rendered;
the context is then freed by reference counting when the rendering returns. The dicts themselves are not
emptied: a test client's ``response.context`` keeps its copies of them.
"""

from __future__ import annotations

from django.template import TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates as _DjangoTemplates
from django.template.backends.django import Template as _Template
from django.template.backends.django import reraise
from django.template.context import ContextDict, make_context


class Template(_Template):
    def render(self, context=None, request=None):
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(context)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)
        finally:
            release(context)


def release(context) -> None:
    """Break the cycles between ``context`` and its dicts (after rendering: ``ContextDict.context`` serves only
    ``with context.push(...)`` blocks, all closed by then)."""
    for d in context.dicts:
        if isinstance(d, ContextDict):
            d.context = None


class DjangoTemplates(_DjangoTemplates):
    """``django.template.backends.django.DjangoTemplates`` whose templates release their context (``Template``)."""

    def from_string(self, template_code):
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
