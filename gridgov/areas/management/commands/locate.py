"""``gridgov locate LON LAT [--json]`` and ``gridgov locate --csv FILE …``: point → area."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from gridgov.areas.management.arguments import date_argument
from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.selectors import area_locate, area_locate_many_ids, area_path

#: Columns appended to every row of ``--csv`` output.
OUTPUT_COLUMNS = ("area_code", "area_name", "area_ref")
#: Rows located per batch (one STRtree query each); bounds memory for huge files.
CHUNK_ROWS = 50_000


def parse_coordinate_pair(lon_text: str, lat_text: str) -> tuple[float, float]:
    """Return (lon, lat) as floats, or (nan, nan) when the row has no usable coordinates.

    Unusable: empty, not a number, not finite, outside lon ±180 / lat ±90, or exactly
    (0, 0), which exports use for "unknown" far more often than for a place in the sea.
    """
    try:
        lon, lat = float(lon_text), float(lat_text)
    except (TypeError, ValueError):
        return math.nan, math.nan
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return math.nan, math.nan
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (lon == 0 and lat == 0):
        return math.nan, math.nan
    return lon, lat


def coordinates_missing(lon_text: str, lat_text: str) -> bool:
    """Whether a row gives no coordinates at all: both cells blank, or exactly (0, 0) (see
    ``parse_coordinate_pair``). A row with something else ``parse_coordinate_pair`` cannot
    use (text, ``nan``, ``inf``, ``1e308``, a value outside lon ±180 / lat ±90, one cell
    blank) has *invalid* coordinates: counted apart, because it points at a broken export
    rather than at a case nobody placed."""
    lon, lat = (lon_text or "").strip(), (lat_text or "").strip()
    if not lon and not lat:
        return True
    try:
        return float(lon) == 0 and float(lat) == 0
    except ValueError:
        return False


def _chunks(reader: Iterator[list[str]], size: int) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    for row in reader:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Command(BaseCommand):
    help = (
        "Find the area (deepest valid one) that contains a WGS84 point, or locate every row "
        "of a CSV file at once (--csv)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lon", nargs="?", type=float, help="Longitude, WGS84 degrees.")
        parser.add_argument("lat", nargs="?", type=float, help="Latitude, WGS84 degrees.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument("--on", type=date_argument, help="Validity date (default today).")
        parser.add_argument("--csv", type=Path, help="CSV file of points (UTF-8, BOM or not).")
        parser.add_argument("--lon-column", help="CSV column with the longitude.")
        parser.add_argument("--lat-column", help="CSV column with the latitude.")
        parser.add_argument("--out", type=Path, help="Output CSV (UTF-8 with BOM).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["csv"]:
            self._locate_csv(options)
        elif options["lon"] is not None and options["lat"] is not None:
            self._locate_point(options)
        else:
            raise CommandError(
                _("give LON LAT, or --csv FILE --lon-column X --lat-column Y --out OUT.csv")
            )

    def _locate_point(self, options: dict[str, Any]) -> None:
        lon, lat = options["lon"], options["lat"]
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise CommandError(
                _("(%(lon)s, %(lat)s) is not a WGS84 longitude, latitude pair (lon ±180, lat ±90)")
                % {"lon": lon, "lat": lat}
            )
        area = area_locate(lon, lat, on=options["on"])
        if area is None:
            raise CommandError(
                _("no area contains the point lon %(lon)s, lat %(lat)s") % {"lon": lon, "lat": lat}
            )
        path = area_path(area)
        if options["json"]:
            payload = {
                "code": area.code,
                "name": area.name,
                "level": area.level,
                "ref": area.ref,
                "path": [{"code": a.code, "name": a.name, "level": a.level} for a in path],
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        trail = " › ".join(a.name for a in path)
        ref = f", ref {area.ref}" if area.ref else ""
        self.stdout.write(f"{area.code} {area.name} ({AreaLevel(area.level).label}{ref}) — {trail}")

    def _locate_csv(self, options: dict[str, Any]) -> None:
        source = Path(options["csv"])
        out = Path(options["out"]) if options["out"] else None
        lon_column, lat_column = options["lon_column"], options["lat_column"]
        if not (out and lon_column and lat_column):
            raise CommandError(_("--csv needs --lon-column, --lat-column and --out"))
        if out.resolve() == source.resolve():
            raise CommandError(_("--out must not be the input file %(path)s") % {"path": source})
        counts = {
            "rows": 0,
            "located": 0,
            "outside": 0,
            "without_coordinates": 0,
            "invalid_coordinates": 0,
        }
        # Write beside the target and move into place only when everything succeeded, so a
        # failure (bad column, bad encoding, a crash) never leaves a half-written or emptied
        # --out file behind.
        partial: Path | None = None
        try:
            with (
                source.open(encoding="utf-8-sig", newline="") as infile,
                tempfile.NamedTemporaryFile(
                    "w",
                    encoding="utf-8-sig",
                    newline="",
                    dir=out.resolve().parent,
                    prefix=f".{out.name}.",
                    suffix=".partial",
                    delete=False,
                ) as outfile,
            ):
                partial = Path(outfile.name)
                reader = csv.reader(infile)
                header = next(reader, None)
                if header is None:
                    raise CommandError(_("%(path)s is empty") % {"path": source})
                missing = [c for c in (lon_column, lat_column) if c not in header]
                if missing:
                    raise CommandError(
                        _("column(s) %(missing)s not in %(path)s; its columns are: %(columns)s")
                        % {
                            "missing": ", ".join(missing),
                            "path": source,
                            "columns": ", ".join(header),
                        }
                    )
                self._locate_rows(reader, header, lon_column, lat_column, outfile, counts, options)
            os.replace(partial, out)
            partial = None
        except UnicodeDecodeError as exc:
            raise CommandError(
                _("%(path)s is not UTF-8 text (%(error)s); save it as CSV UTF-8")
                % {"path": source, "error": exc}
            ) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if partial is not None:
                partial.unlink(missing_ok=True)
        if options["json"]:
            self.stdout.write(json.dumps({**counts, "out": str(out)}))
        else:
            self.stdout.write(
                _(
                    "%(rows)d rows: %(located)d located, %(outside)d outside every area, "
                    "%(without_coordinates)d without coordinates, %(invalid_coordinates)d with "
                    "invalid coordinates; written to %(out)s"
                )
                % {**counts, "out": out}
            )

    def _locate_rows(
        self,
        reader: Iterator[list[str]],
        header: list[str],
        lon_column: str,
        lat_column: str,
        outfile: Any,
        counts: dict[str, int],
        options: dict[str, Any],
    ) -> None:
        lon_at, lat_at = header.index(lon_column), header.index(lat_column)
        out_at = []
        for column in OUTPUT_COLUMNS:
            if column not in header:
                header.append(column)
            out_at.append(header.index(column))
        writer = csv.writer(outfile)
        writer.writerow(header)
        bar = tqdm(unit=" rows", file=sys.stderr, disable=None, leave=False)
        for chunk in _chunks(reader, CHUNK_ROWS):
            cells = [
                (row[lon_at] if lon_at < len(row) else "", row[lat_at] if lat_at < len(row) else "")
                for row in chunk
            ]
            pairs = [parse_coordinate_pair(lon, lat) for lon, lat in cells]
            coords = np.array(pairs, dtype=np.float64).reshape(-1, 2)
            ids = area_locate_many_ids(coords[:, 0], coords[:, 1], on=options["on"])
            has_coords = np.isfinite(coords[:, 0])
            found = ids != 0
            counts["rows"] += len(chunk)
            counts["located"] += int(found.sum())
            counts["outside"] += int((has_coords & ~found).sum())
            missing = sum(
                1 for ok, (lon, lat) in zip(has_coords.tolist(), cells, strict=True)
                if not ok and coordinates_missing(lon, lat)
            )  # fmt: skip
            counts["without_coordinates"] += missing
            counts["invalid_coordinates"] += int((~has_coords).sum()) - missing
            unique = np.unique(ids[found]).tolist()
            info = {
                pk: (a.code, a.name, a.ref)
                for pk, a in Area.objects.only("code", "name", "ref").in_bulk(unique).items()
            }
            for row, area_id in zip(chunk, ids.tolist(), strict=True):
                row.extend([""] * (len(header) - len(row)))
                values = info.get(area_id, ("", "", ""))
                for at, value in zip(out_at, values, strict=True):
                    row[at] = value
                writer.writerow(row)
            bar.update(len(chunk))
        bar.close()
