"""The ``gridgov`` console command.

``gridgov COMMAND [ARGS…]`` runs any Django management command (``gridgov migrate``,
``gridgov createsuperuser``…) and gridgov's own. Our commands are spelled with hyphens
(``gridgov import-areas``, ``gridgov seed-demo``); Django modules cannot contain them, so the
hyphenated name is mapped to the module with underscores (``import_areas``); both spellings
work.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run one management command; ``argv`` defaults to ``sys.argv``."""
    args = list(sys.argv if argv is None else argv)
    args[0] = "gridgov"
    if len(args) > 1 and args[1] == "--version":
        import django

        from gridgov import __version__

        print(f"gridgov {__version__} (Django {django.get_version()})")
        return
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(args)
    except BrokenPipeError:
        # The reader went away (`gridgov calendar show 2026 | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
