"""Rows loaded from the database become model instances without ``Model.__init__`` (list pages: ~200 per page),
and ``get_<field>_display()`` looks its label up in a dict made once per field (``fast_get_field_display``).

``Model.from_db`` calls ``cls(*values)``, whose ``__init__`` is written for every way a model can be
built (keywords, defaults, related objects, the ``pre_init``/``post_init`` signals): about 7 µs per
row, ~1.5 ms of a 50-row list page that loads each row with its room, custodian and category.
For a row that comes from the database none of that applies: Django itself only stores each
loaded value under its attname and marks the state as not adding, from ``db``. ``fast_from_db``
does exactly that, writing the instance's ``__dict__`` directly.

It is installed (``install``) only on Houqin's own models, and a model keeps Django's ``from_db``
when anything could tell the difference:
- it overrides ``__init__``, ``__setattr__`` or ``from_db``;
- a field's attribute is a data descriptor that does more than store the value (``ImageField``
  reads the image dimensions) — plain fields, foreign keys and ``FileField`` are safe;
- a ``pre_init`` or ``post_init`` receiver listens to it (checked on every load: receivers may be
  connected at any time; with none connected to either signal it is one list test).
Unloaded (deferred) fields are simply absent from ``__dict__``, as ``Model.__init__`` leaves them,
so reading one still loads it on access.
"""

from __future__ import annotations

from functools import partialmethod

from django.db import router
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor, ImageFileDescriptor
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_DJANGO_FROM_DB = Model.from_db.__func__
_DJANGO_DISPLAY = Model._get_FIELD_display


def _safe_descriptor(descriptor) -> bool:
    if isinstance(descriptor, ImageFileDescriptor):
        return False
    # DeferredAttribute (plain fields) stores nothing on set; ForeignKeyDeferredAttribute.__set__ only
    # clears a cached related object, of which a new instance has none; FileDescriptor.__set__ stores.
    return isinstance(descriptor, DeferredAttribute | FileDescriptor)


def can_fast_load(model) -> bool:
    """Whether a fresh instance built by ``fast_from_db`` is identical to one built by ``Model.__init__``."""
    if model._meta.abstract or model._meta.proxy and not can_fast_load(model._meta.concrete_model):
        return False
    if model.__init__ is not Model.__init__ or model.__setattr__ is not Model.__setattr__:
        return False
    if model.from_db.__func__ not in (_DJANGO_FROM_DB, fast_from_db):
        return False
    return all(_safe_descriptor(model.__dict__.get(f.attname) or getattr(model, f.attname, None))
               for f in model._meta.concrete_fields)


def fast_from_db(cls, db, field_names, values):
    """``Model.from_db`` without ``__init__``: the loaded values go straight into ``__dict__``."""
    # ``receivers`` first: with none connected at all (Houqin connects none) no per-sender lookup is needed.
    if (pre_init.receivers and pre_init.has_listeners(cls)) or (post_init.receivers and post_init.has_listeners(cls)):
        return _DJANGO_FROM_DB(cls, db, field_names, values)
    new = cls.__new__(cls)
    state = ModelState()
    state.adding = False
    state.db = db
    attrs = new.__dict__
    attrs["_state"] = state
    # ``field_names`` are the attnames of ``values`` in the same order (ModelIterable's init_list,
    # RelatedPopulator's init_list, RawQuerySet's model_init_names).
    attrs.update(zip(field_names, values, strict=True))
    return new


_NEW_PLANS: dict = {}


def new_instance(model):
    """``model()``, made the way ``fast_from_db`` makes a loaded row: for a model given the fast ``from_db``
    (``install``: nothing could tell the difference) and while no ``pre_init``/``post_init`` receiver is connected
    at all, each concrete field's default goes straight into ``__dict__``, in Django's order, as
    ``Model.__init__`` without arguments stores them (an import builds one instance per row: 100,000 cards).
    Anything else is built by ``model()``."""
    plan = _NEW_PLANS.get(model)
    if plan is None:
        plan = _NEW_PLANS[model] = _new_plan(model)
    if plan is False or pre_init.receivers or post_init.receivers:
        return model()
    template, made = plan
    obj = model.__new__(model)
    values = obj.__dict__
    values["_state"] = ModelState()
    values.update(template)  # every field in Django's order; the constant defaults as get_default gives them
    for attname, default in made:
        values[attname] = default()
    return obj


def _constant_default(field) -> bool:
    """Whether ``field.get_default()`` gives the very same object on every call: Django's own ``get_default``
    (a ``ForeignKey``'s too) of a field with a default that is not callable nor a model instance, or with no
    default at all (None or "") — not a database default (a new expression each time)."""
    from django.db.models import ForeignKey
    from django.db.models.fields import Field

    if type(field).get_default not in (Field.get_default, ForeignKey.get_default):
        return False
    if field.has_default():
        return not callable(field.default) and not isinstance(field.default, Model)
    return not field.has_db_default()


def _new_plan(model):
    """``({attname: default}, [(attname, get_default)])`` for ``new_instance``: the constant defaults worked out
    once (each row of a 100,000-card import asked 48 fields for theirs: 1.3 s), the others made per instance;
    False: ``model()``."""
    if getattr(model.from_db, "__func__", None) is not fast_from_db or not can_fast_load(model):
        return False
    template, made = {}, []
    for f in model._meta.concrete_fields:
        if f.column is None or f.generated:
            continue
        if _constant_default(f):
            template[f.attname] = f.get_default()
        else:
            template[f.attname] = None  # holds its place in Django's order; made per instance
            made.append((f.attname, f.get_default))
    return template, made


def _related_plan(obj, field):
    """(attname, cache name, the related row's key attname, related model) for ``set_related``; None: the
    descriptor's way (a one-to-one, a field of a parent class, a composite key)."""
    plan = field.__dict__.get(_PLAN_KEY)  # on the field itself: a dict keyed by fields hashes each (0.3 µs)
    if plan is None:
        remote = field.remote_field
        usable = (remote.multiple and len(field.related_fields) == 1
                  and type(type(obj).__dict__.get(field.name)) is ForwardManyToOneDescriptor)
        plan = field.__dict__[_PLAN_KEY] = ((field.attname, field.cache_name, field.related_fields[0][1].attname,
                                             remote.model) if usable else False)
    return plan or None


_PLAN_KEY = "_houqin_related_plan"


def set_related(obj, field, value) -> None:
    """``setattr(obj, field.name, value)`` for a ``ForeignKey``: what Django's descriptor does when ``value`` is a
    saved row of the related model loaded from a database, with no database router — the key under the
    attname, the row in the relation cache, ``obj``'s database taken from it (``router.db_for_write`` then gives
    the row's) — done directly (the descriptor's checks and router calls: 8 keys × 100,000 cards of an
    import) — and for None, the key None and None in the cache, unless a row was cached. Anything else (another
    kind of value, a one-to-one, routers) takes the descriptor's way."""
    plan = _related_plan(obj, field)
    if value is None and plan is not None:
        # The descriptor with None: the key None, None in the relation cache. A row cached there before has its
        # own cache cleared by the descriptor: that case takes its way.
        attname, cache_name, _key, _model = plan
        cache = obj._state.fields_cache
        if cache.get(cache_name) is None:
            obj.__dict__[attname] = None
            cache[cache_name] = None
            return
    if plan is None or value is None or type(value) is not plan[3] or router.routers:
        setattr(obj, field.name, value)
        return
    db = value._state.db
    state = obj._state
    if db is None or (state.db is not None and state.db != db):
        setattr(obj, field.name, value)  # the descriptor decides (and refuses a relation across databases)
        return
    attname, cache_name, key, _model = plan
    state.db = db
    obj.__dict__[attname] = value.__dict__[key] if key in value.__dict__ else getattr(value, key)
    state.fields_cache[cache_name] = value


def fast_get_field_display(self, field):
    """``Model._get_FIELD_display`` (what ``get_<field>_display()`` calls) with the field's choices made into a
    dict once, not on every call: Django builds ``dict(make_hashable(field.flatchoices))`` each time, ~60 µs
    for a journal row's 20 kinds — most of an API journal row's label. Choices given as a callable (evaluated
    anew each time) keep Django's way."""
    choices = field.__dict__.get("_houqin_display")
    if choices is None:
        if not isinstance(field.choices, list | tuple):
            return _DJANGO_DISPLAY(self, field)
        choices = field.__dict__["_houqin_display"] = dict(make_hashable(field.flatchoices))
    value = getattr(self, field.attname)
    try:
        label = choices.get(value, value)
    except TypeError:  # an unhashable value
        label = choices.get(make_hashable(value), value)
    return force_str(label, strings_only=True)


def install(models) -> list:
    """Give each of ``models`` that can take it the fast ``from_db``, and its fields' ``get_<field>_display``
    the dict lookup; returns the models given the fast ``from_db``."""
    done = []
    for model in models:
        if can_fast_load(model):
            model.from_db = classmethod(fast_from_db)
            done.append(model)
        for field in model._meta.local_fields:
            # Django binds get_<field>_display to Model._get_FIELD_display when the class is made (a
            # partialmethod); one the model defines itself is left alone.
            name = f"get_{field.name}_display"
            current = model.__dict__.get(name)
            if isinstance(current, partialmethod) and current.func is _DJANGO_DISPLAY:
                setattr(model, name, partialmethod(fast_get_field_display, field=field))
    return done
