"""Attachments on any record (X-6): content checks, clean photos, permissions of the parent record."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from PIL import ExifTags, Image

from houqin.core import attachments as svc
from houqin.core.models import Attachment, AuditEntry
from houqin.org.models import Room, School, Student, User

ONLY_MSG = "Only photos (JPEG, PNG, GIF, WebP) and PDF files can be attached."
SCRIPT_MSG = "This PDF contains scripts or actions that start programs and cannot be attached."


# Helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield settings.MEDIA_ROOT


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def stored_files(root) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def jpeg_with_exif(size=(400, 200), orientation=6) -> bytes:
    """Left half red, right half blue; EXIF says "rotate 90° clockwise" and carries a GPS position."""
    img = Image.new("RGB", size, "red")
    img.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (30.0, 15.0, 12.0), 3: "E", 4: (120.0, 10.0, 5.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def image_bytes(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "green" if mode == "RGB" else (0, 128, 0, 128)).save(out, fmt)
    return out.getvalue()


def pdf_bytes(body: bytes = b"") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def object_stream_pdf(inner: bytes) -> bytes:
    packed = zlib.compress(b"3 0 " + inner)
    return pdf_bytes(
        b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
        + packed
        + b"\nendstream\nendobj"
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def room(school):
    return Room.objects.filter(school=school).order_by("pk").first()


@pytest.fixture
def director(personas):
    return personas["logistics_director"]


def panel_url(obj) -> str:
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return reverse("core:attachments", args=[ct.pk, obj.pk])


def open_stored(field) -> Image.Image:
    with field.storage.open(field.name, "rb") as f:
        data = f.read()
    img = Image.open(io.BytesIO(data))
    img.load()
    img.raw = data
    return img


# Detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image"),
        (b"GIF89a" + b"\x00" * 20, "image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\n" * 500 + b"%PDF-1.4\n", "pdf"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", None),  # HEIC (iPhone) is refused
        (b"MZ\x90\x00" + b"\x00" * 100, None),
        (b"<html><script>alert(1)</script>", None),
        (b"", None),
    ],
)
def test_sniff_decides_by_content(data, expected):
    assert svc.sniff(data) == expected


def test_sniff_looks_for_pdf_only_in_the_first_kilobyte():
    assert svc.sniff(b" " * 2000 + b"%PDF-1.4") is None


@pytest.mark.parametrize(
    "name,expected",
    [
        ("C:\\Users\\li\\维修单.pdf", "维修单.pdf"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.jpg", "abc.jpg"),
        ("", "attachment"),
        ("长" * 300 + ".jpeg", "长" * 195 + ".jpeg"),
    ],
)
def test_clean_name_keeps_a_safe_basename(name, expected):
    assert svc.clean_name(name) == expected
    assert len(svc.clean_name(name)) <= 200


# Adding ---------------------------------------------------------------------------------------


def test_jpeg_is_re_encoded_upright_without_exif_and_audited(room, director, media):
    original = jpeg_with_exif()
    att = svc.attachment_add(obj=room, upload=upload(original, "门锁.jpg"), actor=director, note=" 坏了 ")

    att.refresh_from_db()
    assert att.kind == Attachment.Kind.IMAGE
    assert att.original_name == "门锁.jpg"
    assert att.note == "坏了"
    assert att.school_id == room.school_id
    assert att.content_type == ContentType.objects.get_for_model(Room)
    assert att.object_id == str(room.pk)
    assert att.uploaded_by == director

    photo = open_stored(att.file)
    assert photo.format == "JPEG"
    assert photo.size == (200, 400)  # orientation 6 applied: the wide picture now stands upright
    # After a 90° clockwise turn the red (left) half is on top and the blue half at the bottom.
    top, bottom = photo.getpixel((100, 50)), photo.getpixel((100, 350))
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60
    assert not photo.getexif()
    assert b"Exif" not in photo.raw and b"SecretCam" not in photo.raw
    assert att.size == len(photo.raw) != len(original)
    assert att.file.name.endswith(".jpg") and "门锁" not in att.file.name
    assert sorted(stored_files(media)) == sorted(Path(media) / f.name for f in (att.file, att.thumbnail))

    thumb = open_stored(att.thumbnail)
    assert thumb.format == "JPEG" and max(thumb.size) <= 320 and thumb.size == (160, 320)
    assert b"SecretCam" not in thumb.raw

    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Room), object_id=str(room.pk)
    ).latest("at")
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.actor == director
    assert entry.message == "Attachment added: 门锁.jpg"
    assert list(svc.attachments_for(room)) == [att]


def test_png_is_accepted_downscaled_and_transparency_goes_white(room, director):
    att = svc.attachment_add(obj=room, upload=upload(image_bytes("PNG", (3000, 1000)), "plan.png"), actor=director)
    photo = open_stored(att.file)
    assert photo.format == "JPEG" and photo.size == (2560, 853)
    assert att.original_name == "plan.png"

    clear = svc.attachment_add(
        obj=room, upload=upload(image_bytes("PNG", (50, 50), mode="RGBA"), "clear.png"), actor=director
    )
    r, g, b = open_stored(clear.file).getpixel((25, 25))
    assert r > 100 and b > 100  # half-transparent green on white, not on black


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_gif_and_webp_are_accepted(room, director, fmt):
    att = svc.attachment_add(obj=room, upload=upload(image_bytes(fmt), f"x.{fmt.lower()}"), actor=director)
    assert open_stored(att.file).format == "JPEG"


def test_pdf_is_stored_as_sent(room, director):
    data = pdf_bytes()
    att = svc.attachment_add(obj=room, upload=upload(data, "合同.pdf", "application/pdf"), actor=director)
    assert att.kind == Attachment.Kind.PDF and not att.thumbnail
    with att.file.open("rb") as f:
        assert f.read() == data
    assert att.file.name.endswith(".pdf") and att.size == len(data)


def test_pdf_with_binary_stream_is_not_mistaken_for_script(room, director):
    content = b"\x00/JS (binary noise) /Launch" + bytes(range(256))
    data = pdf_bytes(b"5 0 obj << /Length %d >>\nstream\n" % len(content) + content + b"\nendstream\nendobj")
    assert svc.attachment_add(obj=room, upload=upload(data, "x.pdf"), actor=director).kind == "pdf"


def test_exe_named_jpg_is_refused_and_nothing_is_stored(room, director, media):
    before = Attachment.objects.count()
    with pytest.raises(ValidationError) as exc:
        svc.attachment_add(obj=room, upload=upload(b"MZ\x90\x00" + b"\x00" * 4096, "photo.jpg"), actor=director)
    assert exc.value.message_dict == {"file": [ONLY_MSG]}
    assert Attachment.objects.count() == before
    assert stored_files(media) == []


def test_too_large_file_is_refused(room, director, settings, media):
    settings.HOUQIN_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    data = pdf_bytes(b"%" + b"x" * (3 * 1024 * 1024))
    with pytest.raises(ValidationError) as exc:
        svc.attachment_add(obj=room, upload=upload(data, "big.pdf"), actor=director)
    assert exc.value.message_dict == {"file": ["The file is larger than 2 MB."]}
    # A plain File without a known size is read only up to the limit.
    settings.HOUQIN_ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="larger than"):
        svc.attachment_add(obj=room, upload=ContentFile(b"%PDF-1.4" + b" " * 5000, name="x.pdf"), actor=director)
    assert stored_files(media) == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(jpeg_with_exif()[:900], id="truncated-jpeg"),
        pytest.param(image_bytes("PNG")[:-30], id="truncated-png"),
        pytest.param(png_header_only(20000, 20000), id="decompression-bomb"),
        pytest.param(png_header_only(9000, 9000), id="over-60-megapixels"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 500, id="jpeg-magic-only"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_broken_or_hostile_images_are_refused_cleanly(room, director, media, data):
    with pytest.raises(ValidationError) as exc:
        svc.attachment_add(obj=room, upload=upload(data, "p.jpg"), actor=director)
    assert exc.value.message_dict == {"file": [ONLY_MSG]}
    assert stored_files(media) == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(pdf_bytes(b"3 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj"), id="javascript"),
        pytest.param(pdf_bytes(b"3 0 obj << /S /Launch /F (cmd.exe) >> endobj"), id="launch"),
        pytest.param(pdf_bytes(b"3 0 obj << /S /J#61vaScript /J#53 (x) >> endobj"), id="escaped-name"),
        pytest.param(object_stream_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>"), id="object-stream"),
    ],
)
def test_pdf_with_scripts_is_refused(room, director, media, data):
    with pytest.raises(ValidationError) as exc:
        svc.attachment_add(obj=room, upload=upload(data, "x.pdf", "application/pdf"), actor=director)
    assert exc.value.message_dict == {"file": [SCRIPT_MSG]}
    assert stored_files(media) == []


def test_failed_transaction_removes_the_stored_files(room, director, media, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(svc, "audit_record", boom)
    with pytest.raises(RuntimeError):
        svc.attachment_add(obj=room, upload=upload(jpeg_with_exif()), actor=director)
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_void_hides_but_keeps_row_and_file(room, director):
    att = svc.attachment_add(obj=room, upload=upload(pdf_bytes(), "x.pdf"), actor=director)
    svc.attachment_void(attachment=att, actor=director)
    att.refresh_from_db()
    assert att.voided_at is not None and att.voided_by == director
    assert att.file.storage.exists(att.file.name)
    assert list(svc.attachments_for(room)) == []
    messages = list(AuditEntry.objects.filter(object_id=str(room.pk)).values_list("message", flat=True))
    assert "Attachment removed: x.pdf" in messages
    svc.attachment_void(attachment=att, actor=director)  # a second remove changes nothing
    assert messages.count("Attachment removed: x.pdf") == 1


# Views ----------------------------------------------------------------------------------------


@pytest.fixture
def room_photo(room, director):
    return svc.attachment_add(obj=room, upload=upload(jpeg_with_exif(), "门锁.jpg"), actor=director)


def test_anonymous_is_sent_to_login(client, room, room_photo):
    for url in (panel_url(room), reverse("core:attachment_file", args=[room_photo.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_panel_lists_with_thumbnail_and_upload_form(client, room, director, room_photo):
    client.force_login(director)
    response = client.get(panel_url(room), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert reverse("core:attachment_thumb", args=[room_photo.pk]) in html
    assert 'alt="门锁.jpg"' in html
    assert 'type="file"' in html and 'accept="image/*,application/pdf"' in html and "capture" in html
    assert 'hx-encoding="multipart/form-data"' in html and 'hx-swap="outerHTML"' in html
    assert reverse("core:attachment_void", args=[room_photo.pk]) in html
    # Without htmx the same URL is a page of its own.
    page = client.get(panel_url(room)).content.decode()
    assert "<html" in page and "门锁.jpg" in page


def test_file_and_thumbnail_are_served_inline_as_jpeg(client, director, room_photo):
    client.force_login(director)
    response = client.get(reverse("core:attachment_file", args=[room_photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    assert "%E9%97%A8%E9%94%81.jpg" in response["Content-Disposition"]  # 门锁.jpg, RFC 5987-encoded
    body = b"".join(response.streaming_content)
    assert body[:3] == b"\xff\xd8\xff" and b"SecretCam" not in body
    thumb = client.get(reverse("core:attachment_thumb", args=[room_photo.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


def test_pdf_is_served_as_pdf_whatever_its_name(client, room, director):
    att = svc.attachment_add(obj=room, upload=upload(pdf_bytes(), 'x"evil.html'), actor=director)
    client.force_login(director)
    response = client.get(reverse("core:attachment_file", args=[att.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="x_evil.pdf"' in response["Content-Disposition"]
    assert client.get(reverse("core:attachment_thumb", args=[att.pk])).status_code == 404


def test_role_that_views_but_cannot_change_sees_files_but_cannot_upload(client, room, personas, room_photo, media):
    guard = personas["guard"]
    assert guard.has_perm("org.view_room") and not guard.has_perm("org.change_room")
    client.force_login(guard)
    html = client.get(panel_url(room), HTTP_HX_REQUEST="true").content.decode()
    assert "门锁.jpg" in html and 'name="file"' not in html and "attachment_void" not in html
    assert reverse("core:attachment_void", args=[room_photo.pk]) not in html
    assert client.get(reverse("core:attachment_file", args=[room_photo.pk])).status_code == 200
    files_before = len(stored_files(media))
    response = client.post(panel_url(room), {"file": upload(pdf_bytes(), "x.pdf")})
    assert response.status_code == 403
    assert client.post(reverse("core:attachment_void", args=[room_photo.pk])).status_code == 403
    assert len(stored_files(media)) == files_before
    room_photo.refresh_from_db()
    assert room_photo.voided_at is None


def test_role_that_cannot_view_the_record_gets_404(client, school, personas, director):
    student = Student.objects.filter(school=school).order_by("pk").first()
    att = svc.attachment_add(obj=student, upload=upload(pdf_bytes(), "病假条.pdf"), actor=director)
    teacher = personas["teacher"]
    assert not teacher.has_perm("org.view_student")
    client.force_login(teacher)
    assert client.get(panel_url(student)).status_code == 404
    assert client.post(panel_url(student), {"file": upload(pdf_bytes(), "x.pdf")}).status_code == 404
    assert client.get(reverse("core:attachment_file", args=[att.pk])).status_code == 404
    assert client.post(reverse("core:attachment_void", args=[att.pk])).status_code == 404


def test_visible_student_without_change_right_is_403(client, school, personas, director):
    keeper = personas["dorm_keeper"]
    student = svc.scope(Student.objects.all(), keeper, "view").first()
    assert student is not None and not keeper.has_perm("org.change_student")
    client.force_login(keeper)
    assert client.get(panel_url(student)).status_code == 200
    assert client.post(panel_url(student), {"file": upload(pdf_bytes(), "x.pdf")}).status_code == 403


def test_other_school_is_404_both_ways(client, school, room, room_photo, director):
    other = School.objects.create(name="另一所学校", code="9999998")
    other_room = Room.objects.create(school=other, code="X101", name="外校教室")
    other_director = User.objects.create_user(username="other_director", password="x", school=other)
    other_director.groups.add(Group.objects.get(name="logistics_director"))

    client.force_login(director)
    assert client.get(panel_url(other_room)).status_code == 404
    assert client.post(panel_url(other_room), {"file": upload(pdf_bytes(), "x.pdf")}).status_code == 404

    client.force_login(other_director)
    assert client.get(panel_url(room)).status_code == 404
    assert client.get(reverse("core:attachment_file", args=[room_photo.pk])).status_code == 404
    assert client.get(reverse("core:attachment_thumb", args=[room_photo.pk])).status_code == 404
    assert client.post(reverse("core:attachment_void", args=[room_photo.pk])).status_code == 404


def test_platform_tables_and_bad_ids_are_404(client, room, director):
    client.force_login(director)
    ct_audit = ContentType.objects.get_for_model(AuditEntry)
    assert client.get(reverse("core:attachments", args=[ct_audit.pk, 1])).status_code == 404
    ct_room = ContentType.objects.get_for_model(Room)
    assert client.get(reverse("core:attachments", args=[ct_room.pk, "abc"])).status_code == 404
    assert client.get(reverse("core:attachments", args=[999999, room.pk])).status_code == 404


def test_htmx_upload_returns_the_partial(client, room, director):
    client.force_login(director)
    response = client.post(
        panel_url(room),
        {"file": upload(image_bytes("PNG"), "水管.png"), "note": "三楼", "next": "/org/rooms/"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    ct = ContentType.objects.get_for_model(Room)
    assert f'id="attachments-{ct.pk}-{room.pk}"' in html
    assert "水管.png" in html and "三楼" in html
    assert svc.attachments_for(room).get().note == "三楼"


def test_htmx_upload_error_is_shown_next_to_the_input(client, room, director):
    client.force_login(director)
    response = client.post(panel_url(room), {"file": upload(b"MZ\x90\x00" + b"\x00" * 100)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert ONLY_MSG in html and 'role="alert"' in html and "is-invalid" in html
    assert not Attachment.objects.exists()
    empty = client.post(panel_url(room), {"note": "x"}, HTTP_HX_REQUEST="true")
    assert "Choose a photo or PDF file to upload." in empty.content.decode()


def test_plain_post_redirects_back_or_shows_the_page(client, room, director):
    client.force_login(director)
    detail = f"/org/rooms/{room.pk}/"  # the page the panel sits on
    response = client.post(panel_url(room), {"file": upload(pdf_bytes(), "a.pdf"), "next": detail})
    assert response.status_code == 302 and response["Location"] == detail
    response = client.post(panel_url(room), {"file": upload(pdf_bytes(), "b.pdf")}, HTTP_REFERER=f"http://testserver{detail}")
    assert response.status_code == 302 and response["Location"] == f"http://testserver{detail}"
    # An outside address is never followed: the panel is shown on its own page instead.
    response = client.post(panel_url(room), {"file": upload(pdf_bytes(), "c.pdf"), "next": "https://evil.example/"})
    assert response.status_code == 200 and b"<html" in response.content and b"evil.example" not in response.content
    assert svc.attachments_for(room).count() == 3
    # A refused upload without htmx: 400, the message on the page.
    response = client.post(panel_url(room), {"file": upload(b"MZ\x90\x00", "photo.jpg"), "next": detail})
    assert response.status_code == 400 and ONLY_MSG in response.content.decode()


def test_void_view_hides_keeps_and_redirects(client, room, director, room_photo):
    client.force_login(director)
    response = client.post(reverse("core:attachment_void", args=[room_photo.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "门锁.jpg" not in response.content.decode()
    room_photo.refresh_from_db()
    assert room_photo.voided_by == director
    assert room_photo.file.storage.exists(room_photo.file.name)
    assert client.get(reverse("core:attachment_file", args=[room_photo.pk])).status_code == 404
    assert client.post(reverse("core:attachment_void", args=[room_photo.pk])).status_code == 404
    assert client.get(reverse("core:attachment_void", args=[room_photo.pk])).status_code == 405

    other = svc.attachment_add(obj=room, upload=upload(pdf_bytes(), "b.pdf"), actor=director)
    detail = f"/org/rooms/{room.pk}/"  # the page the panel sits on
    response = client.post(reverse("core:attachment_void", args=[other.pk]), {"next": detail})
    assert response.status_code == 302 and response["Location"] == detail


@pytest.mark.parametrize(
    "source",
    [
        "{% load attachments_tags %}{% attachments_panel obj %}",
        '{% include "core/partials/attachments.html" with obj=obj %}',
    ],
)
def test_tag_and_include_render_the_panel(room, director, room_photo, source):
    request = RequestFactory().get(f"/org/rooms/{room.pk}/")
    request.user = director
    from django.template import RequestContext

    html = Template(source).render(RequestContext(request, {"obj": room}))
    assert 'alt="门锁.jpg"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'name="next" value="/org/rooms/{room.pk}/"' in html
    # Without change rights no form is shown.
    request.user = User.objects.get(pk=director.pk)
    request.user.has_perm = lambda perm: perm.startswith("org.view")
    html = Template(source).render(Context({"obj": room, "request": request}))
    assert 'alt="门锁.jpg"' in html and 'type="file"' not in html
