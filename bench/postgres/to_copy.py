#!/usr/bin/env python3
"""JSON Lines of pamatch.v1.Profile (proto field names, as pa-match-datagen
writes them and `pa-match import` reads them) -> PostgreSQL COPY text for
the `pa` table of schema.sql, on stdout.

    to_copy.py taxonomy TAXONOMY.json          SQL that fills taxo_code/taxo_la
    to_copy.py profiles TAXONOMY.json FILE     COPY text for pa (FILE '-' = stdin)

The transform does what pa-match does at upsert time and nothing more:
codes become taxonomy ids, the availability intervals become the 336-slot
grid, duplicate training codes keep their latest expiry, and the register
level is derived from the evidence (MATCHING.md "Register level"). Input is
assumed valid (pa-match validates the same file when it imports it).
"""

import datetime
import json
import math
import sys

RAD = math.pi / 180.0  # one multiplication, as the engine and SQL do
EPOCH = datetime.date(1970, 1, 1)
NEVER = 2147483647      # training record without expires_on
ABSENT = -2147483648    # training code not held

DBS = {"DBS_LEVEL_UNSPECIFIED": 1, "DBS_NONE": 1, "DBS_BASIC": 2,
       "DBS_STANDARD": 3, "DBS_ENHANCED": 4, "DBS_ENHANCED_BARRED_ADULTS": 5}
GENDER = {"GENDER_UNSPECIFIED": 4, "GENDER_FEMALE": 1, "GENDER_MALE": 2,
          "GENDER_NON_BINARY": 3, "GENDER_UNDISCLOSED": 4}
AGE = {"AGE_BAND_UNSPECIFIED": 6, "AGE_BAND_16_24": 1, "AGE_BAND_25_34": 2,
       "AGE_BAND_35_49": 3, "AGE_BAND_50_64": 4, "AGE_BAND_65_PLUS": 5,
       "AGE_BAND_UNDISCLOSED": 6}
DAY = {"MONDAY": 0, "TUESDAY": 1, "WEDNESDAY": 2, "THURSDAY": 3,
       "FRIDAY": 4, "SATURDAY": 5, "SUNDAY": 6}


def enum(table, value, default):
    """Proto JSON prints enums by name; numbers are accepted too."""
    if value is None:
        return default
    if isinstance(value, int):
        # Numbers as in the proto; 0 (UNSPECIFIED) takes the default.
        return value if value != 0 else default
    return table[value]


def days(text):
    return (datetime.date.fromisoformat(text) - EPOCH).days


def timestamp_ns(text):
    """RFC 3339 'Z' timestamp -> integer ns since the epoch, exactly."""
    date_part, time_part = text.rstrip("Z").split("T")
    hms, _, frac = time_part.partition(".")
    h, m, s = (int(x) for x in hms.split(":"))
    seconds = days(date_part) * 86400 + h * 3600 + m * 60 + s
    return seconds * 10**9 + int(frac.ljust(9, "0")[:9] or 0)


def slot(text):
    h, m = text.split(":")
    return (int(h) * 60 + int(m)) // 30


def int_array(values):
    return "{" + ",".join(str(v) for v in values) + "}"


class Taxonomy:
    def __init__(self, path):
        with open(path) as f:
            data = json.load(f)
        self.data = data
        self.skills = {c: i + 1 for i, c in enumerate(data["skills"])}
        self.training = {c: i + 1 for i, c in enumerate(data["training"])}
        self.interests = {c: i + 1 for i, c in enumerate(data["interests"])}
        self.specialist = {q["code"] for q in data["qualifications"]
                           if q.get("specialist", False)}


def taxonomy_sql(tax):
    out = ["BEGIN;", "TRUNCATE taxo_code, taxo_la;"]
    for kind, table in (("skill", tax.skills), ("training", tax.training),
                        ("interest", tax.interests)):
        for code, ident in table.items():
            out.append("INSERT INTO taxo_code VALUES ('%s', '%s', %d);"
                       % (kind, code, ident))
    for la in tax.data["local_authorities"]:
        out.append("INSERT INTO taxo_la VALUES ('%s', %r, %r);"
                   % (la["code"], float(la["lat"]), float(la["lon"])))
    out.append("COMMIT;")
    return "\n".join(out) + "\n"


def register_level(checks, dbs_level, training_codes, qualifications, tax):
    if not (checks.get("identity_verified") and
            checks.get("code_of_conduct_signed")):
        return 0
    if not (dbs_level >= 3 and "pa_induction" in training_codes):
        return 1
    if not (qualifications and int(checks.get("references_verified", 0)) >= 2):
        return 2
    if not (qualifications & tax.specialist):
        return 3
    return 4


def b(value):
    return "t" if value else "f"


def profile_row(p, tax):
    loc = p["location"]
    lat = float(loc.get("lat", 0.0))
    lon = float(loc.get("lon", 0.0))
    checks = p.get("checks") or {}
    dbs = checks.get("dbs") or {}
    attrs = p.get("attributes") or {}

    expiry = [ABSENT] * len(tax.training)
    held = set()
    for record in p.get("training") or []:
        code = record["code"]
        held.add(code)
        i = tax.training[code] - 1
        text = record.get("expires_on") or ""
        value = days(text) if text else NEVER
        expiry[i] = max(expiry[i], value)  # latest expiry; NEVER beats all

    grid = ["0"] * 336
    for interval in p.get("availability") or []:
        base = DAY[interval["day"]] * 48 if isinstance(interval["day"], str) \
            else (interval["day"] - 1) * 48
        for s in range(slot(interval["start"]), slot(interval["end"])):
            grid[base + s] = "1"

    dbs_level = enum(DBS, dbs.get("level"), 1)
    qualifications = set(p.get("qualifications") or [])
    level = register_level(checks, dbs_level, held, qualifications, tax)
    last_active = p.get("last_active")
    languages = sorted(set(attrs.get("languages") or []))

    return "\t".join((
        p["id"],
        b(p.get("status") not in ("PAUSED", 2)),
        repr(lat),
        repr(lon),
        repr(math.cos(lat * RAD)),
        "SRID=4326;POINT(%r %r)" % (lon, lat),
        repr(float(p["max_travel_km"])),
        int_array(sorted({tax.skills[c] for c in p.get("skills") or []})),
        int_array(sorted(tax.training[c] for c in held)),
        int_array(expiry),
        "{" + ",".join(languages) + "}",
        int_array(sorted({tax.interests[c] for c in attrs.get("interests") or []})),
        str(dbs_level),
        dbs.get("issued_on") or "\\N",
        b(dbs.get("update_service")),
        str(level),
        b(checks.get("driving_licence")),
        b(checks.get("has_car")),
        b(attrs.get("ok_with_pets")),
        b(attrs.get("non_smoker")),
        b(attrs.get("short_notice_cover")),
        str(enum(GENDER, attrs.get("gender"), 4)),
        str(enum(AGE, attrs.get("age_band"), 6)),
        "".join(grid),
        str(int(p.get("min_hourly_rate_pence", 0) or 0)),
        str(timestamp_ns(last_active)) if last_active else "\\N",
    ))


def main(argv):
    if len(argv) >= 3 and argv[1] == "taxonomy":
        sys.stdout.write(taxonomy_sql(Taxonomy(argv[2])))
        return 0
    if len(argv) == 4 and argv[1] == "profiles":
        tax = Taxonomy(argv[2])
        src = sys.stdin if argv[3] == "-" else open(argv[3])
        out = sys.stdout
        batch = []
        for line in src:
            if not line.strip():
                continue
            batch.append(profile_row(json.loads(line), tax))
            if len(batch) == 10000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
