import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from houqin.core.models import LoginEvent


class Command(BaseCommand):
    help = "Delete login events older than the retention period (at least 180 days, 网络安全法 第二十一条)."

    def handle(self, *args, **options):
        days = max(180, settings.LOGIN_LOG_RETENTION_DAYS)
        cutoff = timezone.now() - datetime.timedelta(days=days)
        n, _ = LoginEvent.objects.filter(at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {n} login events older than {days} days.")
