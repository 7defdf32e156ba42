"""Platform models: the abstract bases every app builds on, the audit log and the login log.

``core`` knows no domain app. It refers to the school and the user only by settings/strings.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Timestamps shared by every record."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class SchoolScopedModel(BaseModel):
    """A row owned by one school. Every query goes through ``for_user`` (architecture §4.4)."""

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, verbose_name=_("school"))

    class Meta:
        abstract = True


class VoidableMixin(models.Model):
    """Ledger rows are voided with a reason, never deleted (X-2)."""

    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class AuditEntry(models.Model):
    """审计日志 (X-2): who changed what, when, before and after. Written by services, not signals."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        VOID = "void", _("Void")
        DELETE = "delete", _("Delete")
        TRANSITION = "transition", _("Status change")
        IMPORT = "import", _("Import")
        REVEAL = "reveal", _("Viewed personal data")
        ACCOUNT = "account", _("Account change")

    # Indexes: a record's history (content_type, object_id, -at) and a school's entries newest first (school,
    # -at) serve the reads; a single-column index on school, content_type or at would only repeat their first
    # column, and every index is one more B-tree insert per entry (an import of 100,000 rows writes 100,000).
    school = models.ForeignKey(
        "org.School", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("school"), db_index=False
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, verbose_name=_("record type"), db_index=False
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    request_id = models.CharField(_("request id"), max_length=36, blank=True, db_index=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"]),
            models.Index(fields=["school", "-at"], name="core_audit_school_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"


class LoginEvent(models.Model):
    """登录日志: kept at least six months (网络安全法 第二十一条), then purged by ``purge_login_log``."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        FAILED = "failed", _("Failed login")
        LOCKED = "locked", _("Locked out")
        UNLOCKED = "unlocked", _("Unlocked by administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("user")
    )
    username = models.CharField(_("username"), max_length=150)
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login log")
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.username} {self.get_kind_display()}"


def attachment_path(instance, filename: str) -> str:
    """Stored under the record type and a random name; the original name is kept in the row."""
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"attachments/{instance.content_type_id}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    """附件 (X-6): a photo or PDF on any record. Type is checked by content, images re-encoded."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        PDF = "pdf", _("PDF document")

    school = models.ForeignKey(
        "org.School", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("school")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("record type"))
    object_id = models.CharField(_("record id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=attachment_path, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    voided_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("removed by"),
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ("-uploaded_at", "-id")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return self.original_name

    str_fields = ("original_name",)  # what __str__ reads (lists load only these)


class SavedFilter(models.Model):
    """A named list filter (query string), private to its owner or shared with the school."""

    school = models.ForeignKey(
        "org.School", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("school")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    entity = models.CharField(_("list"), max_length=80)  # "org.student"
    name = models.CharField(_("name"), max_length=50)
    query = models.CharField(_("filter"), max_length=1000)
    shared = models.BooleanField(_("shared with colleagues"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ("name", "id")
        indexes = [models.Index(fields=["entity", "owner"])]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class ListPreference(models.Model):
    """The columns a user chose for a list, remembered per user and list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    entity = models.CharField(max_length=80)
    columns = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "entity"], name="core_listpref_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.entity}"


class StatusChange(models.Model):
    """One row per workflow transition: from, to, who, when, why (healthchecks' Flip)."""

    school = models.ForeignKey(
        "org.School", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("school")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("record type"))
    object_id = models.CharField(_("record id"), max_length=64)
    transition = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from"), max_length=40)
    to_state = models.CharField(_("to"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class JobProgress(models.Model):
    """Progress of a background job someone waits for (large imports and exports, reports).

    Created by ``jobs.enqueue_tracked`` before the job is queued, updated by the job through
    ``jobs.job_progress_update``; the job's owner (and the school's 系统管理员) watch it at
    ``/jobs/<job id>/``. The queue's own status lives in the backend (django-tasks-db or Celery).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job_id = models.CharField(_("job"), max_length=64, unique=True)
    name = models.CharField(_("job name"), max_length=100)  # "core.export_list"
    label = models.CharField(_("title"), max_length=200, blank=True)
    school = models.ForeignKey(
        "org.School", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("school")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result_file = models.CharField(max_length=500, blank=True)  # absolute path under HOUQIN_EXPORT_DIR
    result_name = models.CharField(max_length=200, blank=True)  # the download's file name
    # Written while the job runs (each progress report, and every HOUQIN_JOB_HEARTBEAT_SECONDS by the
    # worker): a "running" row whose heartbeat is HOUQIN_JOB_STALE_MINUTES old belongs to a worker that
    # was killed, and jobs.recover_stale_jobs marks it failed.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return self.label or self.name

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class PeriodicSlot(models.Model):
    """One row per periodic job and time slot, claimed by INSERT: a second scheduler (or a restart
    within the same slot) hits the unique constraint and enqueues nothing (``jobs.run_due_periodic``)."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField()  # floor(minutes since the epoch / every_minutes)
    job_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="core_periodicslot_unique")]

    def __str__(self) -> str:
        return f"{self.name} #{self.slot}"


class AuthStamp(models.Model):
    """One row whose value database triggers change whenever a table that decides an account's
    permissions or roles changes (groups, their permissions, department roles and members, staff
    status). ``core.authcache`` keeps each account's permission set per process until it changes."""

    value = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.value


class RowCount(models.Model):
    """How many rows a school has in a table, live (not voided) or voided, kept by database triggers
    (SQLite; ``core.rowcount``): the exact total of a plain list without counting its rows."""

    table_name = models.CharField(max_length=63)
    school_id = models.BigIntegerField()
    live = models.BooleanField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table_name", "school_id", "live"], name="core_rowcount_key")]

    def __str__(self) -> str:
        return f"{self.table_name} {self.school_id} {self.live}: {self.n}"
