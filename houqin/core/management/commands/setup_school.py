import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a real school and its first system administrator (no demo data)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--code", required=True, help="the school's code (e.g. the bureau's school code)")
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--admin-password", help="omit to be asked (recommended)")

    def handle(self, *args, name, code, admin_username, admin_password, **options):
        from django.contrib.auth.password_validation import validate_password

        from houqin.org.services import school_setup

        password = admin_password or getpass.getpass(f"Password for {admin_username}: ")
        try:
            validate_password(password)
            school, user = school_setup(name=name, code=code, admin_username=admin_username, admin_password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created {school.name} ({school.code}); administrator: {user.username}")
