"""Attachments on any record (X-6): services and selectors.

The type of an upload is decided by its content, never by its name. Photos are decoded with Pillow,
turned upright, re-encoded as JPEG without EXIF (no GPS position, no camera serial) and given a
thumbnail; PDFs are stored as sent unless they carry scripts or launch actions. Permission to see or
change attachments is the permission to see or change the record they hang on (``scope``).
"""

from __future__ import annotations

import io
import logging
import os
import re
import unicodedata
import zlib
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import Attachment, AuditEntry
from .permissions import scope

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we refuse above it ourselves.
MAX_PIXELS = 60_000_000
IMAGE_LONG_SIDE = 2560
THUMB_LONG_SIDE = 320
JPEG_QUALITY = 85
PILLOW_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
NAME_MAX = 200
# PDF actions that run code or programs. Names may hide letters as #xx escapes (/J#53 is /JS).
PDF_FORBIDDEN_NAMES = {b"JavaScript", b"JS", b"Launch"}
_PDF_NAME = re.compile(rb"/((?:[^\x00\t\n\x0c\r ()<>\[\]{}/%#]|#[0-9A-Fa-f]{2})+)")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
PDF_INFLATE_LIMIT = 64 * 1024 * 1024  # bytes of decompressed object streams scanned per file, in all
# HEIC/HEIF brands (iPhone photos): not displayable in most browsers, refused.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
# Platform tables that never carry attachments themselves.
_NOT_ATTACHABLE_APPS = {"core", "auth", "contenttypes", "sessions", "admin", "axes", "authtoken"}


# Detection ------------------------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """Return "image", "pdf" or None, from the first bytes of the content (never from the name)."""
    head = bytes(data[:32])
    if head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return None  # HEIC is refused
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


def _unsupported() -> ValidationError:
    return ValidationError({"file": _("Only photos (JPEG, PNG, GIF, WebP) and PDF files can be attached.")})


def max_mb_label() -> str:
    """The size limit in MB as shown to users: "10", "2.5", "0.01"."""
    mb = settings.HOUQIN_ATTACHMENT_MAX_BYTES / (1024 * 1024)
    return f"{max(mb, 0.01):.2f}".rstrip("0").rstrip(".")


def _too_large() -> ValidationError:
    return ValidationError({"file": _("The file is larger than %(mb)s MB.") % {"mb": max_mb_label()}})


def _read(upload) -> bytes:
    """All bytes of the upload, refusing more than the limit without reading much past it."""
    limit = settings.HOUQIN_ATTACHMENT_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large()
    chunks, total = [], 0
    for chunk in upload.chunks():  # from the start of the file (UploadedFile and File seek to 0)
        total += len(chunk)
        if total > limit:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def clean_name(name: str | None) -> str:
    """The original file name as a label: basename only, no control characters, at most 200 characters."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        name = "attachment"
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and 0 < len(ext) <= 10
        name = stem[: NAME_MAX - len(ext) - 1] + "." + ext if keep_ext else name[:NAME_MAX]
    return name


# Images ---------------------------------------------------------------------------------------


def _pillow():
    """(Image, ImageOps), imported when an image arrives: Pillow costs every worker ~5 MB otherwise."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    return Image, ImageOps


def _check_pixels(img: Image.Image) -> None:
    Image, _ops = _pillow()
    width, height = img.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise Image.DecompressionBombError(f"{width}x{height}")


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB with transparent areas on white (a plain convert would turn them black)."""
    Image, _ops = _pillow()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        img = img.point(lambda v: v / 256).convert("L")
    return img.convert("RGB")


def _jpeg(img: Image.Image, icc_profile: bytes | None) -> bytes:
    out = io.BytesIO()
    params = {"quality": JPEG_QUALITY, "optimize": True}
    if icc_profile:
        params["icc_profile"] = icc_profile  # colour data only; EXIF, XMP and comments are not copied
    img.save(out, "JPEG", **params)
    return out.getvalue()


def process_image(data: bytes) -> tuple[bytes, bytes]:
    """Return (photo, thumbnail) as clean JPEGs, or raise the "unsupported" ValidationError."""
    Image, ImageOps = _pillow()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PILLOW_FORMATS:
                raise _unsupported()
            _check_pixels(probe)
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            _check_pixels(img)
            icc_profile = img.info.get("icc_profile")
            img.load()
            try:
                upright = ImageOps.exif_transpose(img)
            except Exception:  # a damaged EXIF block: keep the picture as it is stored
                upright = img
            rgb = _to_rgb(upright)
        rgb.info = {}
        rgb.thumbnail((IMAGE_LONG_SIDE, IMAGE_LONG_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        photo = _jpeg(rgb, icc_profile)
        thumb = rgb.copy()
        thumb.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
        return photo, _jpeg(thumb, icc_profile)
    except ValidationError:
        raise
    except Exception as exc:  # truncated, corrupt, decompression bomb, unsupported variant: never a 500
        logger.info("attachment image refused: %s: %s", type(exc).__name__, exc)
        raise _unsupported() from exc


# PDFs -----------------------------------------------------------------------------------------


def _pdf_names(data: bytes) -> set[bytes]:
    return {_PDF_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), m.group(1)) for m in _PDF_NAME.finditer(data)}


def _pdf_parts(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """(the file outside stream contents, the raw contents of object streams).

    Dictionaries, where actions are named, live outside streams or inside object streams (PDF 1.5);
    other streams (pages, fonts, images) are binary and never scanned: they would give false alarms.
    """
    outside: list[bytes] = []
    object_streams: list[bytes] = []
    pos = 0
    while True:
        match = _PDF_STREAM.search(data, pos)
        if match is None:
            outside.append(data[pos:])
            break
        outside.append(data[pos : match.start()])
        header = data[max(pos, data.rfind(b"obj", pos, match.start())) : match.start()]
        end = data.find(b"endstream", match.end())
        if end < 0:
            break
        if b"ObjStm" in _pdf_names(header):
            object_streams.append(data[match.end() : end])
        pos = end + len(b"endstream")
    return outside, object_streams


def pdf_is_active(data: bytes) -> bool:
    """True when the PDF carries JavaScript or a launch action (in plain or compressed objects)."""
    outside, object_streams = _pdf_parts(data)
    if any(_pdf_names(part) & PDF_FORBIDDEN_NAMES for part in outside):
        return True
    budget = PDF_INFLATE_LIMIT
    for raw in object_streams:
        if budget <= 0:
            break
        try:
            inflated = zlib.decompressobj().decompress(raw, budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        if _pdf_names(inflated) & PDF_FORBIDDEN_NAMES:
            return True
    return False


# Services -------------------------------------------------------------------------------------


def content_type_for(obj: models.Model) -> ContentType:
    return ContentType.objects.get_for_model(obj, for_concrete_model=False)


def _school_id_of(obj: models.Model):
    if obj._meta.label_lower == "org.school":
        return obj.pk
    return getattr(obj, "school_id", None)


def attachment_add(*, obj: models.Model, upload, actor, note: str = "") -> Attachment:
    """Check, clean and store one photo or PDF on ``obj``; audited on ``obj`` in the same transaction."""
    data = _read(upload)
    kind = sniff(data)
    if kind is None:
        raise _unsupported()
    name = clean_name(getattr(upload, "name", ""))
    thumb = None
    if kind == "image":
        data, thumb = process_image(data)
        stored_ext = "jpg"
    else:
        if pdf_is_active(data):
            raise ValidationError(
                {"file": _("This PDF contains scripts or actions that start programs and cannot be attached.")}
            )
        stored_ext = "pdf"
    attachment = Attachment(
        school_id=_school_id_of(obj),
        content_type=content_type_for(obj),
        object_id=str(obj.pk),
        kind=Attachment.Kind.IMAGE if kind == "image" else Attachment.Kind.PDF,
        original_name=name,
        size=len(data),
        note=(note or "").strip()[:200],
        uploaded_by=actor,
    )
    stored: list[str] = []
    try:
        with transaction.atomic():
            attachment.file.save(f"file.{stored_ext}", ContentFile(data), save=False)
            stored.append(attachment.file.name)
            if thumb is not None:
                attachment.thumbnail.save("thumb.jpg", ContentFile(thumb), save=False)
                stored.append(attachment.thumbnail.name)
            attachment.save()
            audit_record(
                obj=obj,
                action=AuditEntry.Action.UPDATE,
                actor=actor,
                message=_("Attachment added: %(name)s") % {"name": name},
            )
    except BaseException:
        storage = attachment.file.storage
        for stored_name in stored:
            try:
                storage.delete(stored_name)
            except OSError:
                logger.warning("could not remove attachment file %s", stored_name)
        raise
    return attachment


def parent_of(attachment: Attachment) -> models.Model | None:
    model = attachment.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=attachment.object_id).first()


@transaction.atomic
def attachment_void(*, attachment: Attachment, actor) -> None:
    """Hide an attachment. The row and the file stay: ledger evidence is never silently deleted."""
    now = timezone.now()
    updated = Attachment.objects.filter(pk=attachment.pk, voided_at__isnull=True).update(
        voided_at=now, voided_by=actor
    )
    if not updated:
        return  # already removed
    attachment.voided_at, attachment.voided_by = now, actor
    parent = parent_of(attachment)
    audit_record(
        obj=parent if parent is not None else attachment,
        action=AuditEntry.Action.UPDATE if parent is not None else AuditEntry.Action.VOID,
        actor=actor,
        message=_("Attachment removed: %(name)s") % {"name": attachment.original_name},
    )


# Selectors ------------------------------------------------------------------------------------


def attachments_for(obj: models.Model):
    """The attachments of a record still shown, newest first."""
    return (
        Attachment.objects.filter(content_type=content_type_for(obj), object_id=str(obj.pk), voided_at__isnull=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def attachable_model(content_type) -> type[models.Model] | None:
    """The model of a content type (instance or id) if records of it may carry attachments."""
    if not isinstance(content_type, ContentType):
        try:
            content_type = ContentType.objects.get_for_id(int(content_type))
        except (ContentType.DoesNotExist, TypeError, ValueError):
            return None
    if content_type.app_label in _NOT_ATTACHABLE_APPS:
        return None
    try:
        model = apps.get_model(content_type.app_label, content_type.model)
    except LookupError:
        return None
    if not model.__module__.startswith("houqin."):
        return None
    return model


def _pk_value(model, object_id):
    try:
        return model._meta.pk.to_python(object_id)
    except (ValidationError, TypeError, ValueError):
        return None


def can_access(user, model, object_id, action: str) -> bool:
    pk = _pk_value(model, object_id)
    if pk is None:
        return False
    return scope(model._default_manager.filter(pk=pk), user, action).exists()


def parent_for(user, content_type, object_id, action: str = "view") -> models.Model:
    """The record an attachment hangs on, if ``user`` may ``action`` it.

    A record the user cannot see raises Http404 (its existence is not revealed); a visible record
    the user may not change raises PermissionDenied.
    """
    model = attachable_model(content_type)
    if model is None:
        raise Http404
    pk = _pk_value(model, object_id)
    if pk is None:
        raise Http404
    parent = scope(model._default_manager.filter(pk=pk), user, "view").first()
    if parent is None:
        raise Http404
    if action != "view" and not scope(model._default_manager.filter(pk=pk), user, action).exists():
        raise PermissionDenied
    return parent


def can_view_parent(user, attachment: Attachment) -> bool:
    model = attachable_model(attachment.content_type_id)
    return model is not None and can_access(user, model, attachment.object_id, "view")


def can_change_parent(user, obj: models.Model) -> bool:
    return can_access(user, type(obj), obj.pk, "change")
