"""Generated REST API per entity (X-8, architecture §4.9).

``/api/<app>/<path>/``: list (the list page's FilterSet and search), retrieve, create, update and,
for ledgers, ``POST {id}/void/``. Writes are validated by the entity's own form — the same
validation as the page — and call the same entity services; errors are field messages with 400.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import weakref

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.db import connections
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.pagination import PageNumberPagination
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

PAGING_PARAMS = frozenset({"page", "page_size", "count", "format"})  # parameters that filter nothing
ACTION_PERMS = {
    "list": "view", "retrieve": "view", "create": "add", "update": "change", "partial_update": "change",
    "void": "void", "destroy": "delete", "metadata": "view",
}


def exception_handler(exc, context):
    """One error shape: ``{"detail": ..., "errors": {field: [messages]}}`` (HackSoft style)."""
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif exc.__class__.__name__ == "TransitionNotAllowed":
        exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        detail = response.data
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        response.data = {"detail": _("Please correct the errors below."), "errors": detail}
    return response


class EntityPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method.lower() not in view.http_method_names:
            return True  # answered 405 by the view: a ledger record is never deleted
        act = ACTION_PERMS.get(view.action, "view")
        return bool(request.user and request.user.is_authenticated
                    and request.user.has_perm(view.entity.perm(act)))


class EntitySerializer(serializers.ModelSerializer):
    """Output and schema. Values the entity computes per user (masked numbers) come from it."""

    entity = None
    label = serializers.SerializerMethodField(help_text="The record's name as shown in pages.")

    def get_label(self, obj) -> str:
        return str(obj)

    def get_fields(self):
        """The declared and model fields, built once per class for output (ModelSerializer builds ~35
        fields from the model on every request); each serializer binds its own shallow copies. Input
        (``data=``) builds them as DRF does, as does a serializer holding nested serializers."""
        if hasattr(self, "initial_data"):
            return super().get_fields()
        cls = type(self)
        proto = cls.__dict__.get("_houqin_output_fields")
        if proto is None:
            proto = super().get_fields()
            if any(isinstance(f, serializers.BaseSerializer) for f in proto.values()):
                return proto
            cls._houqin_output_fields = proto
        return {name: copy.copy(f) for name, f in proto.items()}

    def to_representation(self, instance):
        """DRF's ``Serializer.to_representation`` with the readable fields listed once per serializer
        (DRF walks all fields again for every row), a model field read straight from the row
        (``_reader``), plus the values the entity computes per user."""
        plan = self.__dict__.get("_houqin_plan")
        if plan is None:
            plan = self.__dict__["_houqin_plan"] = [(f, _reader(f, self.Meta.model)) for f in self._readable_fields]
        data = {}
        for field, read in plan:
            if read is not None:
                data[field.field_name] = read(instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            data[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        computed = self.entity.computed_api_fields()
        if computed:
            user = getattr(self.context.get("request"), "user", None)
            for name in computed:
                data[name] = self.entity.value(instance, name, user)
        return data


_PLAIN_OUTPUT = (serializers.CharField, serializers.IntegerField, serializers.BigIntegerField, serializers.BooleanField, serializers.DateField,
                 serializers.DateTimeField, serializers.DecimalField, serializers.ChoiceField, serializers.FloatField,
                 serializers.EmailField, serializers.URLField, serializers.SlugField)


def _reader(field, model):
    """A function of the row giving what DRF's ``get_attribute`` + ``to_representation`` give for a field
    that reads one column of the row itself (a model field, or a foreign key shown as its id); None for
    any other field, which takes DRF's way. ~1.5 µs a field less: 34 fields × 50 rows of the card list."""
    found = _representer(field, model)
    if found is None:
        return None
    attname, represent = found
    return lambda obj: represent(getattr(obj, attname))


def _representer(field, model):
    """(attname, a function of that column's value giving DRF's representation of the field) for a field that
    reads one column of the row itself; None for any other field. The value is the model's (a loaded row's
    attribute, or the database's value through Django's converters: ``RawPlan``)."""
    attrs = field.source_attrs
    if len(attrs) != 1 or type(field) not in (*_PLAIN_OUTPUT, serializers.PrimaryKeyRelatedField):
        return None
    try:
        model_field = model._meta.get_field(attrs[0])
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: a property or method, DRF's way
        return None
    if not model_field.concrete or model_field.many_to_many:
        return None
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        if field.pk_field is not None or not model_field.many_to_one:
            return None
        return model_field.attname, _same  # the id, as DRF's PKOnlyObject gives it (None: None)
    if model_field.is_relation:
        return None
    represent = field.to_representation
    if type(field) is serializers.DateTimeField:
        return model_field.attname, _datetime_representer(field)
    if type(field) is serializers.CharField:
        return model_field.attname, lambda v: None if v is None else v if type(v) is str else represent(v)
    return model_field.attname, lambda v: None if v is None else represent(v)


def _same(value):
    return value


def _returned_as_is(field, model) -> type | None:
    """The type of value DRF's representation of ``field`` gives back unchanged (None: no such type): a text
    of a text field or of a choice field whose choices are texts, a whole number of a number or id field."""
    if type(field) is serializers.CharField:
        return str
    if type(field) is serializers.ChoiceField:
        return str if all(type(k) is str for k in field.choices) else None
    if type(field) is serializers.IntegerField or isinstance(field, serializers.PrimaryKeyRelatedField):
        return int
    if type(field) is serializers.BigIntegerField and not getattr(
            field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING):
        return int
    return None


def _datetime_representer(field):
    """DRF's ``DateTimeField.to_representation`` of an aware datetime in ISO 8601 (what a row of a project with
    ``USE_TZ`` holds), without its per-value settings look-ups: the current time zone (read once, when the
    serializer's plan is made), then ``isoformat``, "Z" for UTC. Anything else (naive, a field time zone or format) takes DRF's way."""
    represent = field.to_representation
    iso = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not settings.USE_TZ or hasattr(field, "timezone") or iso is None or iso.lower() != ISO_8601:
        return lambda value: None if value is None else represent(value)

    zone = timezone.get_current_timezone()  # the plan is made per serializer, i.e. per request (to_representation)

    def read(value):
        if type(value) is not datetime.datetime or value.tzinfo is None:
            return None if value is None else represent(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return represent(value)  # DRF's message
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return read


class RawPlan:
    """An API list's page written from the database's values, with no model instance in between.

    A card list page built 50 model instances of 36 fields each (Django's converters on every value on the
    way in) only for the serializer to read the same 36 values back out: 1.5 ms for the rows and 1.2 ms for
    the serializer, of the 6.4 ms the filtered card list took in-process at 100,000 cards (4.7 ms since). Here each column
    goes once from the database through Django's own converters for its field to DRF's representation of it
    (``_representer``, the functions the serializer uses for a loaded row), in the serializer's field order.

    Taken only for a serializer whose every output field reads one column of the row, but for ``label``
    (``EntitySerializer.get_label``: the record's ``__str__``, made from the model's ``str_fields`` on a
    record loaded with just those) and the values the entity computes per user from fields it names
    (``Entity.list_reads``: a student's identity number, masked or not), given a record loaded with those.
    Any other field — a method, a nested or dotted source, a computed value not so declared — takes DRF's
    way with model instances (``EntityViewSet._raw_plan``).
    """

    def __init__(self, entity, steps: list, names: list, label_names: list, computed: list | None = None):
        self.entity = entity
        self.model = entity.model
        self.computed = [(name, reads, [names.index(n) for n in reads]) for name, reads in (computed or [])]
        self.steps = steps  # (output name, column index or None for the label, representer, type shown as is)
        self.names = names  # the attnames read, the primary key first
        self.label_names = label_names
        self.label_at = [names.index(n) for n in label_names]
        self._by_connection = weakref.WeakKeyDictionary()  # connection → (writers, SQLite statement or None)

    @classmethod
    def of(cls, serializer_class) -> RawPlan | None:
        """The plan of ``serializer_class`` in the current time zone (kept per class and zone), or None."""
        zone = str(timezone.get_current_timezone()) if settings.USE_TZ else ""
        plans = serializer_class.__dict__.get("_houqin_raw_plans")
        if plans is None:
            plans = {}
            serializer_class._houqin_raw_plans = plans
        if zone not in plans:
            plans[zone] = cls._make(serializer_class)
        return plans[zone]

    @classmethod
    def _make(cls, serializer_class) -> RawPlan | None:
        from .entities import str_fields

        if not issubclass(serializer_class, EntitySerializer):
            return None
        entity = serializer_class.entity
        model = serializer_class.Meta.model
        if entity is None or serializer_class.to_representation is not EntitySerializer.to_representation:
            return None
        computed = []
        own = {f.name: f.attname for f in model._meta.concrete_fields if not f.many_to_many}
        declared = entity.list_reads or {}
        for name in entity.computed_api_fields():
            reads = declared.get(name)
            if not reads or not set(reads) <= set(own):
                return None
            computed.append((name, tuple(own[n] for n in reads)))
        serializer = serializer_class(context={})
        pk = model._meta.pk.attname
        names, steps, label_names = [pk], [], []
        for field in serializer._readable_fields:
            if (field.field_name == "label" and type(field) is serializers.SerializerMethodField
                    and field.method_name == "get_label" and serializer_class.get_label is EntitySerializer.get_label):
                label_names = list(str_fields(model) or ())
                if not label_names:
                    return None
                steps.append((field.field_name, None, None, None))
                continue
            found = _representer(field, model)
            if found is None:
                return None
            attname, represent = found
            if attname not in names:
                names.append(attname)
            steps.append((field.field_name, names.index(attname), represent, _returned_as_is(field, model)))
        for name in label_names + [n for _name, reads in computed for n in reads]:
            if name not in names:
                names.append(name)
        return cls(entity, steps, names, label_names, computed)

    def _for(self, connection, db: str):
        """(writers, SQLite statement) for ``connection``: each step's representer composed with Django's
        converters of its column (they belong to the connection), and the statement reading rows by keys."""
        found = self._by_connection.get(connection)
        if found is not None:
            return found
        from .paging import _KEYS_MARK, _json_keys, mark_at
        from .search_index import _has_json_each

        sqlite = connection.vendor == "sqlite" and _has_json_each(db)
        keys = _json_keys(_KEYS_MARK) if sqlite else [0]
        probe = self.model._base_manager.using(db).filter(pk__in=keys).values_list(*self.names)
        compiler = probe.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        columns = [col for col, _sql, _alias in compiler.select]
        if len(columns) != len(self.names):  # pragma: no cover - values_list selects exactly the names given
            raise RuntimeError("RawPlan: unexpected select")
        converters = compiler.get_converters(columns)

        def converted(i, represent):
            convert = converters.get(i)
            if convert is None:
                return represent
            functions, expression = convert
            if len(functions) == 1:
                only = functions[0]
                return lambda value: represent(only(value, expression, connection))

            def run(value):
                for f in functions:
                    value = f(value, expression, connection)
                return represent(value)
            return run

        writers = []
        for name, i, represent, same in self.steps:
            if i is None:  # the label, made first and kept after the row's columns
                writers.append((name, len(self.names), _same, str))
            elif i in converters:
                writers.append((name, i, converted(i, represent), None))
            else:
                writers.append((name, i, represent, same))
        label = {i: converted(i, _same) for i in {*self.label_at, *(i for _n, _r, at in self.computed for i in at)}}
        statement = None
        if sqlite:
            at = mark_at(params)
            if at is not None:
                statement = (sql, list(params), at)
        found = self._by_connection[connection] = ((writers, label), statement)
        return found

    def fetch(self, ids: list, db: str, user=None) -> list:
        """(key, output dict) of the rows ``ids`` (any order; ``DeferredJoin._rows`` puts them in the page's), the
        computed values for ``user``."""
        connection = connections[db]
        (writers, label), statement = self._for(connection, db)
        if statement is not None and all(type(i) is int for i in ids):
            sql, params, at = statement
            params = list(params)
            params[at] = json.dumps(ids)
        else:
            qs = self.model._base_manager.using(db).filter(pk__in=ids).values_list(*self.names)
            sql, params = qs.query.get_compiler(using=db).as_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        model, label_names, label_at, computed = self.model, self.label_names, self.label_at, self.computed
        value = self.entity.value if computed else None
        out = []
        for row in rows:
            if label_names:
                row = (*row, str(model.from_db(db, label_names, [label[j](row[j]) for j in label_at])))
            data = {}
            for name, i, write, same in writers:
                v = row[i]
                # A value of the type its column gives back as it is (a text, an id) is its own representation.
                data[name] = v if v is None or type(v) is same else write(v)
            for name, reads, at in computed:  # as EntitySerializer.to_representation: after the fields
                data[name] = value(model.from_db(db, reads, [label[j](row[j]) for j in at]), name, user)
            out.append((row[0], data))
        return out


def build_serializer(entity):
    fields = list(entity.api_fields or dict.fromkeys(entity.form_fields + entity.list_columns))
    fields = [f for f in fields if entity.field(f) is not None]
    read_only = [f for f in fields if f not in entity.form_fields]
    extra = ["status"] if entity.field("status") is not None and "status" not in fields else []
    voided = ["voided_at", "void_reason"] if entity.is_voidable else []
    stamps = [f for f in ("created_at", "updated_at") if entity.field(f) is not None and f not in fields]
    meta = type("Meta", (), {
        "model": entity.model,
        "fields": ["id", "label", *fields, *extra, *voided, *stamps],
        "read_only_fields": [*read_only, *extra, *voided, *stamps],
    })
    name = f"{entity.model.__name__}Serializer"
    return type(name, (EntitySerializer,), {"Meta": meta, "entity": entity, "__module__": __name__})


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class TransitionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


def _transition_action(t):
    def handler(self, request, pk=None):
        from .workflow import TransitionNotAllowed

        obj = self.get_object()
        if t.perm and not request.user.has_perm(t.perm):
            raise exceptions.PermissionDenied()
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            self.entity.transition(obj=obj, name=t.name, actor=request.user,
                                   note=payload.validated_data.get("note", ""))
        except TransitionNotAllowed as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        obj.refresh_from_db()
        return Response(self.entity.serializer_class(obj, context=self.get_serializer_context()).data)

    handler.__name__ = t.name
    handler.__doc__ = f"{t.label or t.name} (workflow transition)."
    return action(detail=True, methods=["post"], url_path=t.name.replace("_", "-"),
                  serializer_class=TransitionSerializer)(handler)


class EntityPagination(PageNumberPagination):
    """Page numbers with a bounded count (``core.paging``), rows fetched by primary key first.

    ``count`` is exact up to 1,000 rows (or up to the page asked for, when that lies further;
    ``?page=last`` and ``?count=all`` count them all) and ``count_exact`` is true; beyond that
    ``count_exact`` is false, ``count`` is a lower bound (there are more rows) and ``next`` leads on.
    """

    def paginate_queryset(self, queryset, request, view=None):
        from .paging import COUNT_ALL, BoundedPaginator, DeferredJoin

        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        number = request.query_params.get(self.page_query_param) or 1
        wanted = 10**7 if number in self.last_page_strings else number
        cap = COUNT_ALL if request.query_params.get("count") == "all" else None
        plan = getattr(view, "raw_plan", None)
        fetch = None if plan is None else functools.partial(plan.fetch, user=request.user) if plan.computed else plan.fetch
        paginator = BoundedPaginator(DeferredJoin(queryset, fetch=fetch), page_size, wanted_page=wanted, cap=cap)
        if number in self.last_page_strings:
            number = paginator.num_pages
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number, message=str(exc))) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_exact": self.page.paginator.exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        out = super().get_paginated_response_schema(schema)
        out["properties"] = {"count": out["properties"]["count"],
                             "count_exact": {"type": "boolean", "description": "false: there are more than count rows"},
                             **{k: v for k, v in out["properties"].items() if k != "count"}}
        return out

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": "count", "required": False, "in": "query",
            "description": "all: count every row (count_exact is then true); otherwise counted up to 1,000",
            "schema": {"type": "string", "enum": ["all"]},
        }]


def lean_joins(qs):
    """``qs`` with each joined record loading only what its ``__str__`` reads (the model's ``str_fields``):
    the API shows a related record as its id, and the row's label (its ``__str__``) may print a related
    record by its own ``__str__`` (a journal row: its card's code and name; 40 card columns otherwise).
    Relations joined further down, or whose model declares no ``str_fields``, load whole, as before."""
    from .entities import str_fields

    joined = qs.query.select_related
    if not isinstance(joined, dict) or not joined:
        return qs
    model = qs.model
    lean = []
    for name, below in joined.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001, S112 - not a field: leave the join as it is
            continue
        names = str_fields(field.related_model)
        if below or not field.many_to_one or not names:
            continue
        lean.extend(f"{name}__{n}" for n in names)
    if not lean:
        return qs
    own = [f.name for f in model._meta.concrete_fields]
    return qs.only(*own, *lean)


class EntityViewSet(viewsets.ModelViewSet):
    entity = None
    permission_classes = [permissions.IsAuthenticated, EntityPermission]
    pagination_class = EntityPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        e = self.entity
        act = ACTION_PERMS.get(self.action, "view")
        qs = e.queryset(self.request.user, act)
        if self.action == "list" and e.is_voidable and self.request.query_params.get("voided") not in ("all", "only"):
            qs = qs.filter(voided_at__isnull=True)
        if self.action == "list":
            qs = qs.select_related(None) if self._output_needs_no_joins() else lean_joins(qs)
        return qs.order_by(*e.default_ordering(), "pk")

    def filter_queryset(self, queryset):
        """A list asked for with no filter and no search (only paging, or nothing): the filterset would leave
        the rows as ``get_queryset`` gives them, so its form is not built and validated (~0.4 ms)."""
        if self.action == "list" and set(self.request.query_params) <= PAGING_PARAMS:
            return queryset
        return super().filter_queryset(queryset)

    raw_plan: RawPlan | None = None

    def list(self, request, *args, **kwargs):
        """DRF's list; a page whose output reads only the rows' own columns is written from the database's
        values (``RawPlan``), without model instances."""
        queryset = self.filter_queryset(self.get_queryset())
        self.raw_plan = self._raw_plan(queryset)
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.get_serializer(queryset, many=True).data)
        if self.raw_plan is not None:
            return self.get_paginated_response(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _raw_plan(self, queryset) -> RawPlan | None:
        query = queryset.query
        if (self.action != "list" or query.annotations or query.extra or query.distinct
                or queryset._prefetch_related_lookups
                or type(self).get_serializer_class is not EntityViewSet.get_serializer_class):
            return None
        serializer_class = self.get_serializer_class()
        return RawPlan.of(serializer_class) if serializer_class is self.entity.serializer_class else None

    def _output_needs_no_joins(self) -> bool:
        """Whether the list's output reads no related record: related records appear as their ids (read
        from the row), the label is the record's ``__str__`` over its own fields (``str_fields``) and the
        entity computes no value per user. Then joining them (``select_related``) only costs time."""
        cls = type(self)
        answer = cls.__dict__.get("_houqin_no_joins")
        if answer is None:
            answer = self._check_no_joins()
            cls._houqin_no_joins = answer
        return answer

    def _check_no_joins(self) -> bool:
        from .entities import str_fields

        e = self.entity
        return (type(self).get_serializer_class is EntityViewSet.get_serializer_class
                and self.get_serializer_class() is e.serializer_class
                and issubclass(e.serializer_class, EntitySerializer)
                and not e.computed_api_fields()
                and str_fields(e.model) is not None
                and all(isinstance(f, serializers.ModelSerializer.serializer_related_field)
                        or not getattr(f, "source", "").count(".")
                        for f in e.serializer_class().fields.values()))

    def _form(self, data, instance=None):
        e = self.entity
        data = _as_form_data(data, e.form_class.base_fields)
        if instance is not None:
            initial = model_to_dict(instance, fields=list(e.form_fields))
            for name, value in list(initial.items()):
                if isinstance(value, list):
                    initial[name] = [getattr(v, "pk", v) for v in value]
            initial.update(dict(data.items()))
            data = initial
        form = e.form_for(self.request.user, data=data, instance=instance)
        if not form.is_valid():
            raise exceptions.ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        return form

    def create(self, request, *args, **kwargs):
        e = self.entity
        if not e.can_add or request.user.school_id is None:
            raise exceptions.PermissionDenied()
        form = self._form(request.data)
        obj = e.create(data=form.cleaned_data, actor=request.user, school=request.user.school)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        e = self.entity
        if not e.can_edit:
            raise exceptions.PermissionDenied()
        obj = self.get_object()
        if getattr(obj, "voided_at", None):
            raise exceptions.ValidationError({"non_field_errors": [_("A voided record cannot be changed.")]})
        data = request.data
        _require_object(data)
        if not kwargs.get("partial"):
            missing = [f for f in e.form_fields if f not in data and e.form_class.base_fields[f].required]
            if missing:
                raise exceptions.ValidationError({f: [_("This field is required.")] for f in missing})
        form = self._form(data, instance=type(obj)._default_manager.get(pk=obj.pk))
        e.update(obj=obj, data=form.cleaned_data, actor=request.user)
        obj.refresh_from_db()
        return Response(self.get_serializer(obj).data)


def takes_list(field) -> bool:
    """Whether a form field reads a list (check boxes, a multiple select, a split field)."""
    return (isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField | forms.MultiValueField)
            or getattr(field.widget, "allow_multiple_selected", False))


def _require_object(data) -> None:
    """A record's body is a form post or a JSON object; anything else (``null``, a list, a number) is refused
    as a whole with a 400 — an update looked for its required fields in it first, a server error on ``null``."""
    if not hasattr(data, "getlist") and not isinstance(data, dict):
        raise exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [
            _("Send the record as a JSON object of its fields.")]})


def _as_form_data(data, fields: dict):
    """A JSON body as the entity form's data (the API validates with the same form as the page). A form field
    reads the text a browser sends, and some raised a server error given JSON's other values (a date field
    given a number or ``true``): numbers and yes/no become their text, as a form post sends them, and the
    field answers as it would to that text; a list or an object where one value is wanted is refused next
    to its field. A form post (``QueryDict``) is the form's data as it is. Anything but a JSON object is
    refused as a whole."""
    if hasattr(data, "getlist"):
        return data
    _require_object(data)
    out, errors = {}, {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None or value is None or isinstance(value, str) or isinstance(field, forms.JSONField):
            out[name] = value
        elif isinstance(value, list | dict):
            if takes_list(field):
                out[name] = value
            else:
                errors[name] = [_("Give one value here, not a list.")]
        elif isinstance(value, bool) and isinstance(field, forms.BooleanField | forms.NullBooleanField):
            out[name] = value
        else:  # a number, or yes/no for another field
            out[name] = str(value)
    if errors:
        raise exceptions.ValidationError(errors)
    return out


def void(self, request, pk=None):
    """Void the record with a reason (ledger records are never deleted)."""
    obj = self.get_object()
    payload = VoidSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    self.entity.void(obj=obj, reason=payload.validated_data["reason"], actor=request.user)
    obj.refresh_from_db()
    return Response(self.entity.serializer_class(obj, context=self.get_serializer_context()).data)


def build_viewset(entity):
    attrs = {
        "entity": entity,
        "serializer_class": entity.serializer_class,
        "filterset_class": entity.filterset_class,
        "__module__": __name__,
    }
    if entity.is_voidable:
        attrs["void"] = action(detail=True, methods=["post"], serializer_class=VoidSerializer)(void)
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            if not t.system:
                attrs[t.name] = _transition_action(t)
    viewset = type(f"{entity.model.__name__}ViewSet", (EntityViewSet,), attrs)
    try:
        from drf_spectacular.utils import extend_schema

        viewset = extend_schema(tags=[str(entity.meta.app_config.verbose_name)])(viewset)
    except ImportError:  # pragma: no cover - drf-spectacular is a dependency
        pass
    return viewset


def entity_router() -> DefaultRouter:
    from .entities import registry

    router = DefaultRouter()
    for entity in registry:
        router.register(f"{entity.app_label}/{entity.url_path}", entity.viewset_class,
                        basename=f"{entity.app_label}-{entity.model_name}")
    return router
