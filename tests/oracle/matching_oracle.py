"""An independent, plainly written implementation of the search contract.

This is the reference the differential test compares the real server with. It
is written from /work/shared/MATCHING.md and the comments of
proto/pamatch/v1/matcher.proto only, never from the C++ engine, and it favours
obviousness over speed: every profile is checked against every rule, one
after the other, in the order the contract lists them.

Inputs are plain Python dicts shaped like the proto messages in their JSON
form with the proto field names (what json_format.MessageToDict(...,
preserving_proto_field_name=True) gives, or what random_cases.py builds):
enums are their names ("DBS_STANDARD", "GENDER_FEMALE", "MONDAY", ...) or
their numbers, dates are "YYYY-MM-DD", timestamps are RFC 3339 strings
("2024-02-29T13:00:00.000000001Z") or {"seconds": s, "nanos": n}. Missing
keys take the proto3 default. Inputs are assumed valid (the server validates;
this oracle does not).

Entry point: Oracle(taxonomy).search(profiles, request, policies, today)
returns the full ordered result list (every page) plus the metadata a
response carries; page(...) cuts one page out of it.
"""

import calendar
import datetime
import math
import re

EARTH_RADIUS_KM = 6371.0088

# Score components in the order of the table in MATCHING.md, with their
# default weights.
COMPONENTS = ("skills", "schedule", "distance", "interests", "preferences",
              "training", "trust", "recency")
DEFAULT_WEIGHTS = {
    "skills": 0.30,
    "schedule": 0.25,
    "distance": 0.15,
    "interests": 0.10,
    "preferences": 0.10,
    "training": 0.05,
    "trust": 0.05,
    "recency": 0.05,
}

DEFAULT_PAGE_SIZE = 20
DEFAULT_DBS_MAX_AGE_MONTHS = 36

# ---------------------------------------------------------------------------
# Enums. Each maps both the name and the number to a canonical value.
# ---------------------------------------------------------------------------

# DBS levels, ordered NONE < BASIC < STANDARD < ENHANCED < ENHANCED_BARRED.
# UNSPECIFIED is treated as NONE.
_DBS_RANK = {
    "DBS_LEVEL_UNSPECIFIED": 1, 0: 1,
    "DBS_NONE": 1, 1: 1,
    "DBS_BASIC": 2, 2: 2,
    "DBS_STANDARD": 3, 3: 3,
    "DBS_ENHANCED": 4, 4: 4,
    "DBS_ENHANCED_BARRED_ADULTS": 5, 5: 5,
}
DBS_NONE = 1
DBS_STANDARD = 3

_GENDER = {
    "GENDER_UNSPECIFIED": "GENDER_UNDISCLOSED", 0: "GENDER_UNDISCLOSED",
    "GENDER_FEMALE": "GENDER_FEMALE", 1: "GENDER_FEMALE",
    "GENDER_MALE": "GENDER_MALE", 2: "GENDER_MALE",
    "GENDER_NON_BINARY": "GENDER_NON_BINARY", 3: "GENDER_NON_BINARY",
    "GENDER_UNDISCLOSED": "GENDER_UNDISCLOSED", 4: "GENDER_UNDISCLOSED",
}

_AGE_BAND = {
    "AGE_BAND_UNSPECIFIED": "AGE_BAND_UNDISCLOSED", 0: "AGE_BAND_UNDISCLOSED",
    "AGE_BAND_16_24": "AGE_BAND_16_24", 1: "AGE_BAND_16_24",
    "AGE_BAND_25_34": "AGE_BAND_25_34", 2: "AGE_BAND_25_34",
    "AGE_BAND_35_49": "AGE_BAND_35_49", 3: "AGE_BAND_35_49",
    "AGE_BAND_50_64": "AGE_BAND_50_64", 4: "AGE_BAND_50_64",
    "AGE_BAND_65_PLUS": "AGE_BAND_65_PLUS", 5: "AGE_BAND_65_PLUS",
    "AGE_BAND_UNDISCLOSED": "AGE_BAND_UNDISCLOSED", 6: "AGE_BAND_UNDISCLOSED",
}

_DAY_INDEX = {
    "MONDAY": 0, 1: 0,
    "TUESDAY": 1, 2: 1,
    "WEDNESDAY": 2, 3: 2,
    "THURSDAY": 3, 4: 3,
    "FRIDAY": 4, 5: 4,
    "SATURDAY": 5, 6: 5,
    "SUNDAY": 6, 7: 6,
}

_PAUSED = ("PAUSED", 2)


def dbs_rank(level):
    return _DBS_RANK[level if level is not None else 0]


def gender_of(value):
    return _GENDER[value if value is not None else 0]


def age_band_of(value):
    return _AGE_BAND[value if value is not None else 0]


# ---------------------------------------------------------------------------
# Arithmetic helpers.
# ---------------------------------------------------------------------------


def round_score(score):
    """Rounded to 6 decimal places: Python's round(), on the float's exact
    binary value, an exact half going to the even neighbour
    (docs/MATCHING-DECISIONS.md)."""
    return round(score, 6)


def round_km(km):
    """Rounded to 3 decimal places, as round_score."""
    return round(km, 3)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance with R = 6371.0088 km.

    a = sin^2(dphi/2) + cos(phi1) cos(phi2) sin^2(dlambda/2),
    d = 2 R asin(sqrt(a)). The differences are taken in degrees, then
    converted, so mirror-image points get bit-identical distances.
    """
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlambda = math.radians(lon2 - lon1)
    a = (math.sin(dphi / 2) ** 2 +
         math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def haversine_km_radians_diff(lat1, lon1, lat2, lon2):
    """Diagnostic twin of haversine_km that takes the differences of the
    coordinates after converting each to radians (x * pi / 180), the way the
    C++ engine did when this was written. Mathematically the same; at the
    last bit, mirror-image points (lon0 - d, lon0 + d) then get different
    distances. Only for differential_test.py --haversine radians-diff, to see
    past that one known disagreement."""
    def radians(x):
        return x * math.pi / 180.0
    phi1 = radians(lat1)
    phi2 = radians(lat2)
    dphi = phi2 - phi1
    dlambda = radians(lon2) - radians(lon1)
    s1 = math.sin(dphi / 2)
    s2 = math.sin(dlambda / 2)
    a = s1 * s1 + math.cos(phi1) * math.cos(phi2) * s2 * s2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def parse_date(text):
    return datetime.date.fromisoformat(text)


def add_months(day, months):
    """Calendar months later, the day clamped to the month's last day. Past
    year 9999 (which Python's date cannot hold) it is date.max: later than
    any as_of, which is all a freshness check asks of it."""
    index = day.month - 1 + months
    year = day.year + index // 12
    month = index % 12 + 1
    if year > 9999:
        return datetime.date.max
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


_EPOCH = datetime.date(1970, 1, 1)
_NS_PER_DAY = 86400 * 10**9
_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$")


def timestamp_ns(value):
    """Nanoseconds since the Unix epoch of an RFC 3339 'Z' string or a
    {'seconds', 'nanos'} dict. Exact (integer) arithmetic."""
    if isinstance(value, dict):
        return int(value.get("seconds", 0)) * 10**9 + int(value.get("nanos", 0))
    match = _RFC3339.match(value)
    if not match:
        raise ValueError("unsupported timestamp %r" % (value,))
    y, mo, d, h, mi, s, frac = match.groups()
    days = (datetime.date(int(y), int(mo), int(d)) - _EPOCH).days
    seconds = days * 86400 + int(h) * 3600 + int(mi) * 60 + int(s)
    nanos = int((frac or "").ljust(9, "0")) if frac else 0
    return seconds * 10**9 + nanos


def recency_days(as_of, last_active):
    """days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h))."""
    midnight_ns = (as_of - _EPOCH).days * _NS_PER_DAY
    return max(0, (midnight_ns - timestamp_ns(last_active)) // _NS_PER_DAY)


def _minutes_to_slot(text):
    hours, minutes = text.split(":")
    return (int(hours) * 60 + int(minutes)) // 30


def slots_of(intervals):
    """The set of half-hour slots (0..335) an interval list covers; overlapping
    intervals merge because this is a set."""
    slots = set()
    for interval in intervals or ():
        base = _DAY_INDEX[interval["day"]] * 48
        start = _minutes_to_slot(interval["start"])
        end = _minutes_to_slot(interval["end"])  # "24:00" -> 48
        slots.update(range(base + start, base + end))
    return slots


# ---------------------------------------------------------------------------
# The taxonomy.
# ---------------------------------------------------------------------------


class Taxonomy:
    def __init__(self, data):
        self.centres = {la["code"]: (la["lat"], la["lon"])
                        for la in data["local_authorities"]}
        self.specialist = {q["code"] for q in data["qualifications"]
                           if q.get("specialist", False)}
        self.data = data


# ---------------------------------------------------------------------------
# Profile facts the rules need.
# ---------------------------------------------------------------------------


def training_expiries(profile):
    """code -> latest expiry (a date) or None for 'never expires'.

    When a code is listed twice the latest expiry counts, and no expiry at
    all is later than any date.
    """
    best = {}
    for record in profile.get("training", []) or []:
        code = record["code"]
        text = record.get("expires_on", "") or ""
        expiry = parse_date(text) if text else None
        if code not in best:
            best[code] = expiry
        elif best[code] is None or expiry is None:
            best[code] = None
        else:
            best[code] = max(best[code], expiry)
    return best


def training_valid(expiries, code, as_of):
    """Present and unexpired: no expires_on, or expires_on >= as_of."""
    if code not in expiries:
        return False
    expiry = expiries[code]
    return expiry is None or expiry >= as_of


def register_level(profile, taxonomy):
    checks = profile.get("checks", {}) or {}
    dbs = checks.get("dbs", {}) or {}
    training_codes = {r["code"] for r in profile.get("training", []) or []}
    qualifications = set(profile.get("qualifications", []) or [])

    if not (checks.get("identity_verified", False) and
            checks.get("code_of_conduct_signed", False)):
        return 0
    if not (dbs_rank(dbs.get("level")) >= DBS_STANDARD and
            "pa_induction" in training_codes):
        return 1
    if not (len(qualifications) >= 1 and
            int(checks.get("references_verified", 0)) >= 2):
        return 2
    if not (qualifications & taxonomy.specialist):
        return 3
    return 4


def dbs_fresh(profile, as_of, max_age_months):
    dbs = (profile.get("checks", {}) or {}).get("dbs", {}) or {}
    if dbs.get("update_service", False):
        return True
    issued = dbs.get("issued_on", "") or ""
    if not issued:
        return False
    return add_months(parse_date(issued), max_age_months) >= as_of


# ---------------------------------------------------------------------------
# The search.
# ---------------------------------------------------------------------------


class Effective:
    """A request merged with its local authority's policy (stricter wins)."""

    def __init__(self, request, policy, as_of, taxonomy):
        self.as_of = as_of
        if "location" in request and request["location"] is not None:
            loc = request["location"]
            self.lat = float(loc.get("lat", 0.0))
            self.lon = float(loc.get("lon", 0.0))
        else:
            self.lat, self.lon = taxonomy.centres[request["local_authority"]]
        self.max_distance_km = (float(request["max_distance_km"])
                                if request.get("max_distance_km") is not None
                                else None)
        self.must_have = set(request.get("must_have_skills", []) or [])
        self.nice = set(request.get("nice_to_have_skills", []) or [])
        # The request's order, first occurrence (explanations list in it).
        self.nice_order = list(dict.fromkeys(
            request.get("nice_to_have_skills", []) or []))
        self.interests_order = list(dict.fromkeys(
            request.get("interests", []) or []))
        self.required_training = set(request.get("required_training", []) or [])
        self.preferred_training = set(
            request.get("preferred_training", []) or [])
        self.min_dbs = dbs_rank(request.get("min_dbs_level"))
        self.min_level = int(request.get("min_register_level", 0) or 0)
        if policy is not None:
            self.min_dbs = max(self.min_dbs, dbs_rank(policy.get("min_dbs_level")))
            self.min_level = max(self.min_level,
                                 int(policy.get("min_register_level", 0) or 0))
            self.required_training |= set(
                policy.get("required_training", []) or [])
        months = request.get("dbs_max_age_months")
        self.dbs_months = (int(months) if months is not None
                           else DEFAULT_DBS_MAX_AGE_MONTHS)
        self.requires_driver = bool(request.get("requires_driver", False))
        self.requires_car = bool(request.get("requires_car", False))
        self.has_pets = bool(request.get("has_pets", False))
        self.requires_non_smoker = bool(request.get("requires_non_smoker", False))
        self.required_languages = set(request.get("required_languages", []) or [])
        self.preferred_languages = set(
            request.get("preferred_languages", []) or [])
        self.preferred_genders = {gender_of(g) for g in
                                  request.get("preferred_genders", []) or []}
        self.preferred_age_bands = {age_band_of(a) for a in
                                    request.get("preferred_age_bands", []) or []}
        required_gender = request.get("required_gender", 0) or 0
        # UNSPECIFIED (0) in a request means "no requirement".
        self.required_gender = (None if required_gender in
                                (0, "GENDER_UNSPECIFIED")
                                else gender_of(required_gender))
        self.interests = set(request.get("interests", []) or [])
        self.needed = slots_of(request.get("schedule", []))
        self.min_coverage = float(request.get("min_schedule_coverage", 0.0) or 0.0)
        self.short_notice = bool(request.get("short_notice", False))
        self.max_rate = int(request.get("max_hourly_rate_pence", 0) or 0)
        self.exclude = set(request.get("exclude_ids", []) or [])
        self.weights = dict(DEFAULT_WEIGHTS)
        for name, value in (request.get("weights") or {}).items():
            if value is not None:
                self.weights[name] = float(value)


def evaluate(profile, eff, taxonomy, distance_fn=haversine_km):
    """Returns None when a hard filter rejects the profile, else the result
    dict: id, score (rounded), raw_score, distance_km, register_level and the
    explanation."""
    pid = profile["id"]
    if profile.get("status") in _PAUSED:
        return None
    if pid in eff.exclude:
        return None

    loc = profile["location"]
    distance = distance_fn(eff.lat, eff.lon, float(loc.get("lat", 0.0)),
                            float(loc.get("lon", 0.0)))
    if eff.max_distance_km is not None and not distance <= eff.max_distance_km:
        return None
    if not distance <= float(profile["max_travel_km"]):
        return None

    skills = set(profile.get("skills", []) or [])
    if not eff.must_have <= skills:
        return None

    expiries = training_expiries(profile)
    for code in eff.required_training:
        if not training_valid(expiries, code, eff.as_of):
            return None

    checks = profile.get("checks", {}) or {}
    dbs = checks.get("dbs", {}) or {}
    if dbs_rank(dbs.get("level")) < eff.min_dbs:
        return None
    if eff.min_dbs > DBS_NONE and not dbs_fresh(profile, eff.as_of,
                                                 eff.dbs_months):
        return None

    level = register_level(profile, taxonomy)
    if level < eff.min_level:
        return None

    attributes = profile.get("attributes", {}) or {}
    if eff.requires_driver and not checks.get("driving_licence", False):
        return None
    if eff.requires_car and not checks.get("has_car", False):
        return None
    if eff.has_pets and not attributes.get("ok_with_pets", False):
        return None
    if eff.requires_non_smoker and not attributes.get("non_smoker", False):
        return None

    languages = set(attributes.get("languages", []) or [])
    if not eff.required_languages <= languages:
        return None

    gender = gender_of(attributes.get("gender"))
    if eff.required_gender is not None and gender != eff.required_gender:
        return None

    available = slots_of(profile.get("availability", []))
    covered = len(eff.needed & available)
    needed = len(eff.needed)
    if needed > 0 and not covered / needed >= eff.min_coverage:
        return None

    if eff.short_notice and not attributes.get("short_notice_cover", False):
        return None
    if eff.max_rate > 0 and not (
            int(profile.get("min_hourly_rate_pence", 0) or 0) <= eff.max_rate):
        return None

    # ---- score ----------------------------------------------------------
    values = {}
    interests = set(attributes.get("interests", []) or [])
    if eff.nice:
        values["skills"] = len(eff.nice & skills) / len(eff.nice)
    if needed > 0:
        values["schedule"] = covered / needed
    values["distance"] = 0.5 ** (distance / 8)
    if eff.interests:
        values["interests"] = len(eff.interests & interests) / len(eff.interests)
    preference_lists = []
    if eff.preferred_languages:
        preference_lists.append(bool(eff.preferred_languages & languages))
    if eff.preferred_genders:
        preference_lists.append(gender in eff.preferred_genders)
    if eff.preferred_age_bands:
        preference_lists.append(
            age_band_of(attributes.get("age_band")) in eff.preferred_age_bands)
    if preference_lists:
        values["preferences"] = (sum(1 for hit in preference_lists if hit) /
                                 len(preference_lists))
    if eff.preferred_training:
        held = sum(1 for code in eff.preferred_training
                   if training_valid(expiries, code, eff.as_of))
        values["training"] = held / len(eff.preferred_training)
    values["trust"] = level / 4
    last_active = profile.get("last_active")
    if last_active is None:
        values["recency"] = 0.0
    else:
        values["recency"] = 0.5 ** (recency_days(eff.as_of, last_active) / 30)

    weighted = 0.0
    total_weight = 0.0
    components = []
    for name in COMPONENTS:
        if name not in values:
            continue
        weight = eff.weights[name]
        weighted += weight * values[name]
        total_weight += weight
        components.append((name, values[name], weight))
    raw = weighted / total_weight if total_weight > 0 else 0.0

    return {
        "id": pid,
        "score": round_score(raw),
        "raw_score": raw,
        "distance_km": distance,
        "register_level": level,
        "explanation": {
            "components": components,
            "matched_skills": [c for c in eff.nice_order if c in skills],
            "missing_skills": [c for c in eff.nice_order if c not in skills],
            "shared_interests": [c for c in eff.interests_order
                                 if c in interests],
            "distance_km": round_km(distance),
            "covered_slots": covered,
            "needed_slots": needed,
            "register_level": level,
        },
    }


def sort_key(result, distance_quantum_km=0.0):
    """Rounded score descending, then distance ascending, then id ascending
    (byte order; ids are ASCII). With distance_quantum_km > 0 distances are
    compared rounded to that quantum (an option the contract does not state,
    for trying out a tie rule that float noise cannot break)."""
    distance = result["distance_km"]
    if distance_quantum_km > 0:
        distance = round(distance / distance_quantum_km)
    return (-result["score"], distance, result["id"].encode())


class Oracle:
    def __init__(self, taxonomy_data, distance_fn=haversine_km,
                 distance_quantum_km=0.0):
        self.taxonomy = Taxonomy(taxonomy_data)
        self.distance_fn = distance_fn
        self.distance_quantum_km = distance_quantum_km

    def search(self, profiles, request, policies=None, today=None):
        """All matches of `request` in order.

        profiles: iterable of profile dicts (the latest stored version each).
        policies: dict local_authority -> policy dict.
        today: datetime.date used when request.as_of is empty.
        Returns {'results', 'total_matches', 'applied_policy', 'as_of'}.
        """
        policies = policies or {}
        as_of_text = request.get("as_of", "") or ""
        if as_of_text:
            as_of = parse_date(as_of_text)
        else:
            as_of = today or datetime.datetime.now(datetime.timezone.utc).date()
        la = request.get("local_authority", "") or ""
        policy = policies.get(la) if la else None
        eff = Effective(request, policy, as_of, self.taxonomy)
        results = []
        for profile in profiles:
            result = evaluate(profile, eff, self.taxonomy, self.distance_fn)
            if result is not None:
                results.append(result)
        results.sort(key=lambda r: sort_key(r, self.distance_quantum_km))
        return {
            "results": results,
            "total_matches": len(results),
            "applied_policy": la if policy is not None else "",
            "as_of": as_of.isoformat(),
        }

    @staticmethod
    def page(all_results, offset, page_size):
        """One page: the page_size results (0 = 20) after the first `offset`
        ones. A page token continues strictly after the last returned
        (score, distance, id); the order being total, that is the same as
        continuing at the next index while the data do not change. Returns
        (page, has_more)."""
        size = page_size or DEFAULT_PAGE_SIZE
        chunk = all_results[offset:offset + size]
        return chunk, offset + size < len(all_results)
