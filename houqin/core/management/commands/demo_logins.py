from django.core.management.base import BaseCommand
from django.utils import translation

from houqin.core.demo import DEMO_PASSWORD
from houqin.core.registry import registry


class Command(BaseCommand):
    help = "Print the demo logins, one per role."

    def handle(self, *args, **options):
        from houqin.org.demo import DEMO_LOGINS
        from houqin.org.models import User

        translation.activate("zh-hans")
        existing = set(User.objects.filter(username__in=[u for u, *_ in DEMO_LOGINS]).values_list("username", flat=True))
        if not existing:
            self.stdout.write("No demo logins in this database.")
            return
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, name, _title in DEMO_LOGINS:
            if username in existing:
                label = registry.roles[role].label
                self.stdout.write(f"  {str(label):<12} {username:<12} {name}")
