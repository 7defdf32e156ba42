"""The zh_Hans catalogue is complete: every string of ours is translated (architecture §1, X-9)."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_catalogue_entry_is_translated_and_not_fuzzy():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po if not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_compiled_catalogue_matches_the_po_file():
    """django.mo is committed (no gettext needed to run Houqin); it must be rebuilt after .po edits."""
    po = polib.pofile(str(PO))
    with MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [
        e.msgid for e in po if e.msgid and (
            mo.ngettext(e.msgid, e.msgid_plural, 1) != e.msgstr_plural.get(0, e.msgstr_plural.get("0"))
            if e.msgid_plural else
            (mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)) != e.msgstr
        )
    ]
    assert not stale, f"run scripts/compile_catalogue.py; stale: {stale[:10]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (make test installs it)")
def test_no_string_of_ours_is_missing_from_the_catalogue(tmp_path):
    """Extract the strings of a copy of the code base and require each one in the catalogue."""
    shutil.copytree(ROOT / "houqin", tmp_path / "houqin", ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    (tmp_path / "locale").mkdir()
    settings = tmp_path / "extract_settings.py"
    settings.write_text(f"from houqin.settings_test import *  # noqa\nLOCALE_PATHS = [{str(tmp_path / 'locale')!r}]\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "DJANGO_SETTINGS_MODULE": "extract_settings"}
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-location",
                    "--ignore", "houqin/static/*"], cwd=tmp_path, env=env, check=True, capture_output=True)
    extracted = {e.msgid for e in polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po")) if e.msgid}
    ours = {e.msgid for e in polib.pofile(str(PO)) if e.translated()}
    missing = sorted(extracted - ours)
    assert not missing, f"untranslated strings (run makemessages and translate): {missing}"
