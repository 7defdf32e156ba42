from django.core.management.base import BaseCommand, CommandError

from houqin.core import demo


class Command(BaseCommand):
    help = "Create the demo school from the generators apps register (issue 2 §9)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1.0 = ~1,200 students; larger for benchmarks")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when a school already exists")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, scale, if_empty, seed, **options):
        from django.apps import apps

        School = apps.get_model("org", "School")
        if School.objects.exists():
            if if_empty:
                self.stdout.write("A school already exists; the demo data is kept as it is.")
                return
            raise CommandError("A school already exists. Use a fresh database for the demo school.")
        if scale <= 0:
            raise CommandError("--scale must be positive")
        ctx = demo.seed(scale=scale, seed=seed, stdout=self.stdout)
        counts = ctx.get("counts", {})
        self.stdout.write("Demo school created: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
