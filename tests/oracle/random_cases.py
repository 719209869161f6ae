"""Seeded generator of random-but-adversarial profiles, policies and searches.

Everything is a plain dict in the proto's JSON shape with proto field names
(json_format.ParseDict turns it into a message; matching_oracle reads it as
is). The values lean on the places where two honest implementations of
MATCHING.md could part ways:

- training expiring on the as_of day, the day before and the day after;
- DBS certificates issued on month ends (Jan 31, Feb 29, Aug 31, ...) and
  around the exact dbs_max_age_months boundary of every as_of / months pair
  used by the searches, where "issued + months >= as_of" and "issued >=
  as_of - months" disagree;
- last_active exactly k days before the as_of midnight, and 1 ns / 1 s either
  side, in the future, or unset;
- availability and schedules ending at 24:00 on SUNDAY (slot 335),
  overlapping and adjacent intervals;
- coverage probes: a schedule of n slots and PAs covering exactly k of them,
  with floors at k/n (n = 4, 10, 25, 100; 0.28 * 25 and 0.55 * 100 exceed 7
  and 55 in doubles, so "covered >= floor * needed" is caught), and n = 128
  or 256 with schedule-only weights, where a score lands exactly on a half
  of 1e-6 and the rounding rule shows;
- exact score ties: identical clones at the same place with other ids, and
  clones mirrored east/west of a "hub" at dyadic coordinates that searches
  use as their location (bit-identical distances);
- ids that differ only in case or punctuation (byte order);
- weight overrides with zeros, all-zero, dyadic weights that make
  half-way roundings (x.5e-6) possible;
- policies of several authorities (one that is not stricter than anything),
  paused and UNSPECIFIED-status profiles, exclude_ids, preference lists with
  duplicates and UNDISCLOSED.
"""

import calendar
import datetime
import random

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY",
        "SUNDAY")
DBS_LEVELS = ("DBS_LEVEL_UNSPECIFIED", "DBS_NONE", "DBS_BASIC", "DBS_STANDARD",
              "DBS_ENHANCED", "DBS_ENHANCED_BARRED_ADULTS")
GENDERS = ("GENDER_UNSPECIFIED", "GENDER_FEMALE", "GENDER_MALE",
           "GENDER_NON_BINARY", "GENDER_UNDISCLOSED")
AGE_BANDS = ("AGE_BAND_UNSPECIFIED", "AGE_BAND_16_24", "AGE_BAND_25_34",
             "AGE_BAND_35_49", "AGE_BAND_50_64", "AGE_BAND_65_PLUS",
             "AGE_BAND_UNDISCLOSED")
WEIGHT_NAMES = ("skills", "schedule", "distance", "interests", "preferences",
                "training", "trust", "recency")
# Languages PAs in the North East commonly list (all in the taxonomy).
LANGUAGES = ("en", "ur", "pa", "bn", "pl", "ar", "zh", "ro", "ku", "fa", "cy",
             "so", "gd")
# as_of days the searches use: month ends, leap days, the day after.
AS_OF_DATES = ("2023-02-28", "2023-03-01", "2024-02-29", "2024-03-01",
               "2023-04-30", "2024-03-31", "2025-08-31", "2024-12-31",
               "2023-01-31", "2025-03-01")
DBS_MONTHS = (1, 2, 3, 6, 12, 13, 24, 36, 48, 120)
# Coverage probes: needed slots n -> (floors to try, covered counts k PAs
# get). Start slots are the same for the schedule and the PA's run, so the PA
# covers exactly k (plus whatever its other intervals add).
COVERAGE_PROBES = {
    4: ((0.5, 0.25, 0.75, 1.0), (1, 2, 3, 4)),
    10: ((0.3, 0.7, 0.5, 0.1), (3, 5, 7, 10)),
    25: ((0.28, 0.56, 0.24), (6, 7, 14, 15)),
    100: ((0.55, 0.54), (54, 55, 56)),
    128: ((), (1, 3, 5, 64, 127)),       # k / 128 * 1e6 ends in .5
    256: ((), (2, 6, 10, 128, 254)),     # k / 256 * 1e6 ends in .5
}
# Where probe runs start: Monday 08:00, Thursday 13:30, and so that the run
# ends exactly at Sunday 24:00 (None).
PROBE_STARTS = (16, 3 * 48 + 27, None)
# Dyadic points (exact in binary) that searches use as their location and
# around which mirrored clones stand.
HUBS = ((54.875, -1.5), (55.0, -1.625), (54.5625, -1.25), (54.75, -1.75))

_EPOCH = datetime.date(1970, 1, 1)
_NS_PER_DAY = 86400 * 10**9


def add_months(day, months):
    index = day.month - 1 + months
    year = day.year + index // 12
    month = index % 12 + 1
    return datetime.date(year, month,
                         min(day.day, calendar.monthrange(year, month)[1]))


def month_end(year, month):
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def rfc3339(ns):
    """Nanoseconds since the epoch -> 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ'."""
    seconds, nanos = divmod(ns, 10**9)
    stamp = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += ".%09d" % nanos
    return text + "Z"


def hhmm(slot_in_day):
    return "%02d:%02d" % (slot_in_day // 2, 30 * (slot_in_day % 2))


class CaseGenerator:
    """Draws profiles, policies and searches from one seeded RNG."""

    def __init__(self, taxonomy, seed, today=None):
        self.rng = random.Random(seed)
        self.taxonomy = taxonomy
        self.today = today or datetime.datetime.now(datetime.timezone.utc).date()
        self.las = [la["code"] for la in taxonomy["local_authorities"]]
        self.centres = {la["code"]: (la["lat"], la["lon"])
                        for la in taxonomy["local_authorities"]}
        self.skills = list(taxonomy["skills"])
        self.common_skills = self.skills[:10]
        self.training = list(taxonomy["training"])
        self.common_training = ["pa_induction", "first_aid", "safeguarding_adults",
                                "moving_and_assisting", "medication_awareness",
                                "food_hygiene"]
        self.qualifications = [q["code"] for q in taxonomy["qualifications"]]
        self.interests = list(taxonomy["interests"])
        # A per-run subset of the as_of days and DBS ages keeps the boundary
        # dates dense enough that most searches meet some.
        self.as_of_dates = [datetime.date.fromisoformat(d) for d in
                            self.rng.sample(AS_OF_DATES, 5)]
        self.as_of_dates.append(self.today)
        self.dbs_months = self.rng.sample(DBS_MONTHS, 4) + [36]
        self._dbs_pool = self._dbs_date_pool()
        self._expiry_pool = self._expiry_date_pool()
        self._active_pool = self._last_active_pool()
        self.ids = []

    # ---- pools of boundary values --------------------------------------

    def _dbs_date_pool(self):
        pool = set()
        for as_of in self.as_of_dates:
            for months in self.dbs_months:
                # back = as_of - months, clamped: issued on `back` is stale
                # when the clamp bit (as_of Apr 30, 2 months: back Feb 28,
                # Feb 28 + 2 months = Apr 28 < Apr 30).
                back = add_months(as_of, -months)
                for delta in range(-1, 2):
                    pool.add(back + datetime.timedelta(days=delta))
                pool.add(month_end(back.year, back.month))
                nxt = add_months(back.replace(day=1), 1)
                pool.add(nxt)
        for year in range(2015, 2026):
            for month in (1, 2, 8):
                pool.add(month_end(year, month))
        return sorted(pool)

    def _expiry_date_pool(self):
        pool = set()
        for as_of in self.as_of_dates:
            for delta in (-1, 0, 1):
                pool.add(as_of + datetime.timedelta(days=delta))
        return sorted(pool)

    def _last_active_pool(self):
        pool = set()
        for as_of in self.as_of_dates:
            midnight = (as_of - _EPOCH).days * _NS_PER_DAY
            for days in (0, 1, 2, 29, 30, 31, 60, 365):
                base = midnight - days * _NS_PER_DAY
                for offset in (0, -1, 1, -10**9, 10**9, 12 * 3600 * 10**9):
                    pool.add(base + offset)
            pool.add(midnight + 3 * _NS_PER_DAY)  # in the future
        return sorted(pool)

    # ---- small helpers ---------------------------------------------------

    def chance(self, p):
        return self.rng.random() < p

    def subset(self, items, lo, hi):
        k = self.rng.randint(lo, min(hi, len(items)))
        return self.rng.sample(items, k)

    def with_duplicates(self, items):
        items = list(items)
        if items and self.chance(0.2):
            items.append(self.rng.choice(items))
            self.rng.shuffle(items)
        return items

    def new_id(self):
        rng = self.rng
        while True:
            style = rng.random()
            if style < 0.35 and self.ids:
                # A near-twin of an existing id: case / punctuation variants.
                base = rng.choice(self.ids)
                variant = rng.choice([base.upper(), base.lower(), base + "0",
                                      base + "-", base + ".", base + "_",
                                      base + ":", base[:-1] or "x"])
                pid = variant[:64]
            elif style < 0.6:
                pid = "%s%s%d" % (rng.choice(["pa", "PA", "Pa"]),
                                  rng.choice(["-", ".", "_", ":", ""]),
                                  rng.randint(0, 300))
            else:
                alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789_.:-")
                pid = "".join(rng.choice(alphabet) for _ in range(
                    rng.choice([rng.randint(1, 24), 63, 64])))
            if pid and pid not in self.ids:
                self.ids.append(pid)
                return pid

    def location(self):
        rng = self.rng
        if self.chance(0.02):
            # Far from the North East (Carlisle, Edinburgh, York, London).
            lat, lon = rng.choice([(54.89, -2.93), (55.95, -3.19),
                                   (53.96, -1.08), (51.51, -0.13)])
            return {"lat": lat, "lon": lon}
        if self.chance(0.15):
            lat, lon = rng.choice(HUBS)
            return {"lat": lat + rng.randint(-40, 40) / 256.0,
                    "lon": lon + rng.randint(-40, 40) / 256.0}
        lat, lon = self.centres[rng.choice(self.las)]
        return {"lat": round(lat + rng.uniform(-0.2, 0.2), rng.randint(3, 9)),
                "lon": round(lon + rng.uniform(-0.3, 0.3), rng.randint(3, 9))}

    def intervals(self, style):
        """A list of availability/schedule intervals of the given style."""
        rng = self.rng
        out = []
        if style == "slots4":  # exactly 4 needed slots
            day = rng.choice(DAYS)
            start = rng.randint(0, 44)
            out.append({"day": day, "start": hhmm(start), "end": hhmm(start + 4)})
            if self.chance(0.4):  # an overlapping copy changes nothing
                out.append({"day": day, "start": hhmm(start + 1),
                            "end": hhmm(start + 3)})
            return out
        if style == "slots10":  # exactly 10 needed slots, in two pieces
            day = rng.choice(DAYS)
            start = rng.randint(0, 30)
            out.append({"day": day, "start": hhmm(start), "end": hhmm(start + 6)})
            out.append({"day": day, "start": hhmm(start + 6),
                        "end": hhmm(start + 10)})  # adjacent
            return out
        if style == "sunday_night":
            out.append({"day": "SUNDAY", "start": hhmm(rng.randint(36, 47)),
                        "end": "24:00"})
            if self.chance(0.6):
                out.append({"day": "MONDAY", "start": "00:00",
                            "end": hhmm(rng.randint(1, 16))})
            return out
        if style == "working_week":
            start, end = rng.choice([(18, 34), (16, 36), (14, 24), (26, 40)])
            for day in DAYS[:5]:
                if self.chance(0.85):
                    out.append({"day": day, "start": hhmm(start), "end": hhmm(end)})
            return out
        if style == "big":  # 128 slots: halves of 1e-6 possible
            return [{"day": "MONDAY", "start": "00:00", "end": "24:00"},
                    {"day": "TUESDAY", "start": "00:00", "end": "24:00"},
                    {"day": "WEDNESDAY", "start": "00:00", "end": "16:00"}]
        # random: a few intervals, some overlapping, some ending 24:00.
        for _ in range(rng.randint(1, 6)):
            day = rng.choice(DAYS)
            start = rng.randint(0, 47)
            end = rng.randint(start + 1, 48)
            if self.chance(0.2):
                end = 48
            out.append({"day": day, "start": hhmm(start), "end": hhmm(end)})
            if self.chance(0.25):
                s2 = rng.randint(start, end - 1)
                out.append({"day": day, "start": hhmm(s2),
                            "end": hhmm(rng.randint(s2 + 1, 48))})
        return out

    def run(self, start, length):
        """Intervals covering week slots [start, start + length), split at
        midnights (so a run reaching slot 336 ends "24:00" on SUNDAY)."""
        out = []
        slot = start
        while slot < start + length:
            day, in_day = divmod(slot, 48)
            end_in_day = min(48, in_day + (start + length - slot))
            out.append({"day": DAYS[day], "start": hhmm(in_day),
                        "end": hhmm(end_in_day)})
            slot += end_in_day - in_day
        return out

    def probe_start(self, needed):
        start = self.rng.choice(PROBE_STARTS)
        if start is None or start + needed > 336:
            start = 336 - needed
        return start

    def probe_availability(self):
        needed = self.rng.choice(list(COVERAGE_PROBES))
        covered = self.rng.choice(COVERAGE_PROBES[needed][1])
        return self.run(self.probe_start(needed), covered)

    def probe_schedule(self):
        """A probe schedule, its coverage floor (or None) and whether
        schedule-only weights should make the score the bare fraction."""
        needed = self.rng.choice(list(COVERAGE_PROBES))
        floors = COVERAGE_PROBES[needed][0]
        floor = self.rng.choice(floors) if floors and self.chance(0.7) else None
        return self.run(self.probe_start(needed), needed), floor, needed >= 128

    def availability(self):
        rng = self.rng
        if self.chance(0.3):
            out = self.probe_availability()
            if self.chance(0.3):
                out += self.intervals("random")
            return out
        styles = ["working_week", "random", "sunday_night", "slots4", "slots10",
                  "big"]
        out = []
        for _ in range(rng.randint(0, 3)):
            out.extend(self.intervals(rng.choice(styles)))
        if self.chance(0.1):
            out.append({"day": "SUNDAY", "start": "23:30", "end": "24:00"})
        rng.shuffle(out)
        return out

    # ---- profiles ------------------------------------------------------

    def training_records(self):
        rng = self.rng
        records = []
        codes = [c for c in self.common_training if self.chance(0.55)]
        codes += self.subset(self.training, 0, 4)
        for code in codes:
            record = {"code": code}
            roll = rng.random()
            if roll < 0.45:
                record["expires_on"] = rng.choice(self._expiry_pool).isoformat()
            elif roll < 0.65:
                day = self.today + datetime.timedelta(days=rng.randint(-900, 900))
                record["expires_on"] = day.isoformat()
            elif roll < 0.75:
                record["expires_on"] = ""
            records.append(record)
        if records and self.chance(0.2):
            # The same code twice with another expiry: the latest counts.
            twin = dict(rng.choice(records))
            twin["expires_on"] = rng.choice(
                ["", rng.choice(self._expiry_pool).isoformat()])
            records.append(twin)
        rng.shuffle(records)
        return records

    def checks(self):
        rng = self.rng
        dbs = {"level": rng.choice(DBS_LEVELS[:2] + DBS_LEVELS[2:] * 3)}
        roll = rng.random()
        if roll < 0.6:
            dbs["issued_on"] = rng.choice(self._dbs_pool).isoformat()
        elif roll < 0.85:
            dbs["issued_on"] = (self.today - datetime.timedelta(
                days=rng.randint(0, 2500))).isoformat()
        if self.chance(0.2):
            dbs["update_service"] = True
        return {
            "identity_verified": self.chance(0.85),
            "code_of_conduct_signed": self.chance(0.85),
            "dbs": dbs,
            "references_verified": rng.choice([0, 1, 2, 2, 3, 5]),
            "driving_licence": self.chance(0.6),
            "has_car": self.chance(0.45),
        }

    def attributes(self):
        rng = self.rng
        languages = ["en"] if self.chance(0.9) else []
        languages += self.subset(list(LANGUAGES), 0, 2)
        return {
            "gender": rng.choice(GENDERS + ("GENDER_FEMALE",) * 3),
            "age_band": rng.choice(AGE_BANDS),
            "languages": self.with_duplicates(sorted(set(languages))),
            "interests": self.with_duplicates(self.subset(self.interests, 0, 6)),
            "non_smoker": self.chance(0.7),
            "ok_with_pets": self.chance(0.6),
            "short_notice_cover": self.chance(0.4),
        }

    def profile(self):
        rng = self.rng
        skills = [s for s in self.common_skills if self.chance(0.65)]
        skills += [s for s in self.skills[10:] if self.chance(0.15)]
        p = {
            "id": self.new_id(),
            "version": rng.choice([0, 1, rng.randint(1, 10**13)]),
            "status": rng.choice(["ACTIVE"] * 9 + ["PROFILE_STATUS_UNSPECIFIED"] * 3 +
                                 ["PAUSED"]),
            "location": self.location(),
            "local_authority": rng.choice(self.las),
            "max_travel_km": rng.choice([
                round(rng.uniform(5, 60), rng.randint(0, 6)),
                round(rng.uniform(1, 120), 3), 200.0, 200.0, 50.0, 25.0]),
            "skills": self.with_duplicates(skills),
            "training": self.training_records(),
            "qualifications": self.with_duplicates(self.subset(
                self.qualifications, 0, 3)),
            "checks": self.checks(),
            "attributes": self.attributes(),
            "availability": self.availability(),
            "min_hourly_rate_pence": rng.choice([0, 0, rng.randint(900, 2000),
                                                 1200, 1500]),
        }
        if self.chance(0.85):
            p["last_active"] = rfc3339(rng.choice(self._active_pool))
        if self.chance(0.05):
            # Unset sub-messages take their defaults (no checks at all,
            # UNDISCLOSED gender and age band, no languages, ...).
            del p[rng.choice(["checks", "attributes"])]
        elif self.chance(0.05):
            del p["checks"]["dbs"]
        return p

    def clone(self, source):
        twin = dict(source)
        twin["id"] = self.new_id()
        return twin

    def mirrored_pair(self):
        """Two identical PAs east and west of a hub: equal distances."""
        lat, lon = self.rng.choice(HUBS)
        delta = self.rng.randint(1, 24) / 64.0
        a = self.profile()
        a["location"] = {"lat": lat, "lon": lon + delta}
        a["max_travel_km"] = 200.0
        b = self.clone(a)
        b["location"] = {"lat": lat, "lon": lon - delta}
        return [a, b]

    def profiles(self, count):
        out = []
        while len(out) < count:
            roll = self.rng.random()
            if roll < 0.12 and out:
                out.append(self.clone(self.rng.choice(out)))
            elif roll < 0.2:
                out.extend(self.mirrored_pair())
            else:
                out.append(self.profile())
        return out[:count]

    def mutated(self, old, stored_version):
        """A later version of `old`: same id, some fields redrawn. Its version
        is 0 ("stored + 1") or above stored_version."""
        fresh = self.profile()
        self.ids.remove(fresh["id"])
        new = dict(old)
        fields = ["status", "location", "max_travel_km", "skills", "training",
                  "qualifications", "checks", "attributes", "availability",
                  "min_hourly_rate_pence", "last_active", "local_authority"]
        for field in self.rng.sample(fields, self.rng.randint(1, 5)):
            if field in fresh:
                new[field] = fresh[field]
            else:
                new.pop(field, None)
        if self.chance(0.3):
            new["status"] = self.rng.choice(["ACTIVE", "PAUSED",
                                             "PROFILE_STATUS_UNSPECIFIED"])
        new["version"] = (0 if self.chance(0.4) else
                          stored_version + self.rng.randint(1, 10**6))
        return new

    def policy_changes(self, policies):
        """(set, delete): policies to set (new or replaced) and local
        authorities whose policy to delete."""
        current = list(policies)
        deletes = self.rng.sample(current, min(len(current), 1))
        fresh = self.policies()
        sets = {}
        for la, policy in fresh.items():
            if la not in deletes and self.chance(0.5):
                sets[la] = policy
        return sets, deletes

    # ---- policies --------------------------------------------------------

    def policies(self):
        rng = self.rng
        chosen = rng.sample(self.las, rng.randint(3, 6))
        out = {}
        for i, la in enumerate(chosen):
            if i == 0:  # a policy that is never stricter than anything
                policy = {"local_authority": la}
            else:
                policy = {
                    "local_authority": la,
                    "min_dbs_level": rng.choice(DBS_LEVELS[:5]),
                    "min_register_level": rng.choice([0, 0, 1, 2, 3]),
                    "required_training": self.with_duplicates(
                        self.subset(self.common_training[:4], 0, 2)),
                }
            out[la] = policy
        return out

    # ---- searches ----------------------------------------------------------

    def weights(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return {name: 0.0 for name in WEIGHT_NAMES}  # every score 0
        if roll < 0.2:
            # Dyadic weights on exact components: halves of 1e-6 reachable.
            w = {name: 0.0 for name in WEIGHT_NAMES}
            w[rng.choice(["schedule", "skills", "trust", "training"])] = 1.0
            if self.chance(0.5):
                w[rng.choice(["trust", "schedule"])] = rng.choice([1.0, 3.0])
            return w
        w = {}
        for name in rng.sample(WEIGHT_NAMES, rng.randint(1, 8)):
            w[name] = rng.choice([0.0, 0.0, 1.0, 0.5, 100.0, 1e-9,
                                  round(rng.uniform(0, 3), 3), rng.uniform(0, 100)])
        return w

    def request(self, existing_ids, policy_las):
        rng = self.rng
        r = {}
        where = rng.random()
        if where < 0.3:
            lat, lon = rng.choice(HUBS)
            r["location"] = {"lat": lat, "lon": lon}
        elif where < 0.55:
            pass  # the local authority's centre
        else:
            r["location"] = self.location()
        if "location" not in r or self.chance(0.6):
            pool = list(policy_las) * 2 + self.las
            r["local_authority"] = rng.choice(pool)
        if self.chance(0.3):
            r["max_distance_km"] = rng.choice([round(rng.uniform(5, 80), 2), 8.0,
                                               15.5, 40.0, 1000.0, 0.5])
        must = []
        if self.chance(0.25):
            must = self.subset(self.common_skills, 1, rng.choice([1, 1, 2]))
        if self.chance(0.1):
            if "personal_care" not in must:
                must.append("personal_care")
            r["required_gender"] = rng.choice(["GENDER_FEMALE"] * 3 +
                                              ["GENDER_MALE", "GENDER_NON_BINARY"])
        if must:
            r["must_have_skills"] = self.with_duplicates(must)
        if self.chance(0.6):
            r["nice_to_have_skills"] = self.with_duplicates(
                self.subset(self.common_skills, 1, 4) + self.subset(self.skills, 0, 3))
        if self.chance(0.2):
            r["required_training"] = self.with_duplicates(
                self.subset(self.common_training, 1, 2))
        if self.chance(0.4):
            r["preferred_training"] = self.with_duplicates(
                self.subset(self.common_training, 1, 4) + self.subset(self.training, 0, 2))
        if self.chance(0.35):
            r["min_dbs_level"] = rng.choice(DBS_LEVELS[1:])
        if self.chance(0.6):
            r["dbs_max_age_months"] = rng.choice(self.dbs_months)
        if self.chance(0.2):
            r["min_register_level"] = rng.choice([0, 1, 1, 2, 2, 3, 4])
        for flag in ("requires_driver", "requires_car", "has_pets",
                     "requires_non_smoker", "short_notice"):
            if self.chance(0.07):
                r[flag] = True
        if self.chance(0.1):
            r["required_languages"] = rng.choice([["en"], ["en", "pl"], ["ur"]])
        if self.chance(0.3):
            r["preferred_languages"] = self.with_duplicates(self.subset(list(LANGUAGES), 1, 3))
        if self.chance(0.3):
            r["preferred_genders"] = self.with_duplicates(self.subset(list(GENDERS[1:]), 1, 2))
        if self.chance(0.3):
            r["preferred_age_bands"] = self.with_duplicates(
                self.subset(list(AGE_BANDS[1:]), 1, 3))
        if self.chance(0.4):
            r["interests"] = self.with_duplicates(self.subset(self.interests, 1, 5))
        if self.chance(0.25):
            r["schedule"], floor, exact = self.probe_schedule()
            if floor is not None:
                r["min_schedule_coverage"] = floor
            if exact and self.chance(0.6):
                # The score is the bare coverage fraction (or its mean with
                # trust): k/128 hits x.5e-6 exactly.
                r["weights"] = {name: 0.0 for name in WEIGHT_NAMES}
                r["weights"]["schedule"] = 1.0
                if self.chance(0.3):
                    r["weights"]["trust"] = 1.0
        elif self.chance(0.45):
            style = rng.choice(["slots4", "slots10", "slots4", "slots10", "random",
                                "working_week", "sunday_night", "big"])
            r["schedule"] = self.intervals(style)
            if self.chance(0.5):
                r["min_schedule_coverage"] = rng.choice(
                    [0.5, 0.3, 0.7, 0.25, 0.75, 1.0, 0.1, 0.9, 0.6,
                     round(rng.random(), 3)])
        elif self.chance(0.1):
            r["min_schedule_coverage"] = 1.0  # ignored: no schedule
        if self.chance(0.2):
            r["max_hourly_rate_pence"] = rng.choice([1200, 1500, rng.randint(900, 2100)])
        if self.chance(0.15) and existing_ids:
            r["exclude_ids"] = self.with_duplicates(
                rng.sample(existing_ids, min(len(existing_ids), rng.randint(1, 30)))
                + ["no-such-id"])
        if self.chance(0.9):
            r["as_of"] = rng.choice(self.as_of_dates).isoformat()
        if "weights" not in r and self.chance(0.35):
            r["weights"] = self.weights()
        r["explain"] = self.chance(0.6)
        r["page_size"] = rng.choice([0, 1, 2, 3, 7, 20, 33, 50, 100, 100])
        return r
