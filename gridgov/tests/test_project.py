"""Project-wide checks: the console command, settings, migrations and translations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        args, capture_output=True, text=True, cwd=ROOT, env=env or os.environ.copy(), check=False
    )


def test_it_runs_management_commands_through_python_m_gridgov() -> None:
    result = _run(sys.executable, "-m", "gridgov", "help")
    assert result.returncode == 0, result.stderr
    assert "migrate" in result.stdout
    assert "[catalog]" in result.stdout  # our own apps' commands are listed too


def test_it_maps_hyphenated_command_names_to_modules() -> None:
    result = _run(sys.executable, "-m", "gridgov", "import-areas", "--help")
    assert result.returncode == 0, result.stderr
    assert "--level" in result.stdout


def test_it_generates_a_secret_key_once_into_the_var_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["GRIDGOV_VAR_DIR"] = str(tmp_path)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
    first = _run(sys.executable, "-c", f"import django; django.setup(); {code}", env=env)
    second = _run(sys.executable, "-c", f"import django; django.setup(); {code}", env=env)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text().strip()
    assert len(key) >= 50
    assert first.stdout.strip() == second.stdout.strip() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_it_defaults_to_chinese_shanghai_time_and_debug_off() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_it_has_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _po_files() -> list[Path]:
    return sorted((ROOT / "gridgov").rglob("locale/zh_Hans/LC_MESSAGES/django.po"))


def test_every_chinese_catalogue_is_complete() -> None:
    files = _po_files()
    assert files, "no zh_Hans catalogues found"
    problems = [
        f"{path.relative_to(ROOT)}: {entry.msgid!r}"
        for path in files
        for entry in polib.pofile(str(path))
        if entry.msgid and (not entry.translated() or entry.fuzzy or entry.obsolete)
    ]
    assert not problems, "untranslated strings (run `make messages`):\n" + "\n".join(problems)


def test_every_compiled_catalogue_matches_its_source() -> None:
    for path in _po_files():
        mo_path = path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} missing: run `make messages`"
        source = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(path)) if e.translated()}
        compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo_path)) if e.msgid}
        assert compiled == source, f"{mo_path} is stale: run `make messages`"


def test_one_english_string_has_one_chinese_translation_across_catalogues() -> None:
    """Django merges every app's catalogue into one, the first app in INSTALLED_APPS winning,
    so a (context, msgid) translated two ways shows the other app's words on some pages."""
    seen: dict[tuple[str | None, str], dict[str, list[str]]] = {}
    for path in _po_files():
        for entry in polib.pofile(str(path)):
            if entry.msgid and not entry.obsolete and not entry.msgid_plural:
                by_msgstr = seen.setdefault((entry.msgctxt, entry.msgid), {})
                by_msgstr.setdefault(entry.msgstr, []).append(str(path.relative_to(ROOT)))
    conflicts = [
        f"{key!r}: {translations!r}" for key, translations in seen.items() if len(translations) > 1
    ]
    assert not conflicts, "translated differently (add a context if truly different):\n" + (
        "\n".join(conflicts)
    )


def test_the_page_shows_the_translation_each_catalogue_gives() -> None:
    """Catches catalogues that win over ours (django.contrib.admin and .auth come first in
    INSTALLED_APPS): gridgov/locale, read before every app, holds the overrides."""
    from django.utils import translation

    wrong = []
    with translation.override("zh-hans"):
        for path in _po_files():
            for entry in polib.pofile(str(path)):
                if not entry.msgid or entry.obsolete or entry.msgid_plural:
                    continue
                if entry.msgctxt:
                    served = translation.pgettext(entry.msgctxt, entry.msgid)
                else:
                    served = translation.gettext(entry.msgid)
                if served != entry.msgstr:
                    wrong.append(
                        f"{path.relative_to(ROOT)}: {entry.msgid!r} is {entry.msgstr!r}, "
                        f"shown as {served!r}"
                    )
    assert not wrong, "\n".join(wrong)


def test_it_reports_its_own_version() -> None:
    from gridgov import __version__

    result = _run(sys.executable, "-m", "gridgov", "--version")
    assert result.returncode == 0
    assert result.stdout.startswith(f"gridgov {__version__} (Django 5.2")


def test_a_closed_pipe_is_not_a_traceback() -> None:
    reader = subprocess.Popen(
        [sys.executable, "-m", "gridgov", "help"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.read(10)
    reader.stdout.close()  # like `| head`
    _, err = reader.communicate()
    assert b"Traceback" not in err
