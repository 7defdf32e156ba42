from django.core.management.base import BaseCommand

from houqin.core.roles import sync_roles


class Command(BaseCommand):
    help = "Create or update one group per role with the permissions apps grant it (idempotent)."

    def handle(self, *args, **options):
        counts = sync_roles()
        for code, n in counts.items():
            self.stdout.write(f"{code}: {n} permissions")
