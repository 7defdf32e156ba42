"""``manage.py show_entity app.Model``: print what the entity registry built for a model."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from houqin.core.entities import registry


class Command(BaseCommand):
    help = "Print the classes, URLs, API route and permissions built for a registered model."

    def add_arguments(self, parser):
        parser.add_argument("model", help="app_label.ModelName, e.g. org.Student")

    def handle(self, *args, model, **options):
        try:
            model_cls = apps.get_model(model)
        except (LookupError, ValueError) as exc:
            raise CommandError(f"Unknown model {model!r}.") from exc
        entity = registry.get(model_cls)
        if entity is None:
            raise CommandError(f"{model} is not registered as an entity.")
        out = self.stdout
        out.write(f"{type(entity).__module__}.{type(entity).__name__} ({entity.verbose_name_plural})")
        for attr in ("filterset_class", "form_class", "import_form_class", "serializer_class", "viewset_class"):
            cls = getattr(entity, attr)
            out.write(f"  {attr:18} {cls.__module__}.{cls.__name__}" if cls else f"  {attr:18} -")
        out.write("  views:")
        for key, view in entity.views.items():
            name = entity.url_name(key)
            try:
                route = reverse(name) if key in ("list", "add", "import", "export", "print") else reverse(name, args=[1])
            except NoReverseMatch:
                route = "(not routed)"
            out.write(f"    {key:8} {view.__name__:32} {name:36} {route}")
        out.write(f"  api: /api/{entity.app_label}/{entity.url_path}/")
        perms = ["view", "add", "change"] + (["void"] if entity.is_voidable else []) + (
            ["delete"] if entity.deletion == "delete" else [])
        out.write("  permissions: " + ", ".join(entity.perm(p) for p in perms))
        out.write("  list columns: " + ", ".join(entity.list_columns))
        out.write("  filters: " + ", ".join(entity.filter_fields) + "; search: " + ", ".join(entity.search_fields))
        if entity.import_fields:
            key = f" (key: {entity.import_key})" if entity.import_key else ""
            out.write("  import: " + ", ".join(entity.import_fields) + key)
