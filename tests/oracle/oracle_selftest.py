#!/usr/bin/python3
"""Hand-worked cases, one or more per rule of MATCHING.md, for the oracle.

The expected numbers below were worked out by hand (shown in the comments),
not by running the oracle, so a mistake in the oracle shows up here before it
can excuse or invent a disagreement with the server.

Run: /usr/bin/python3 tests/oracle/oracle_selftest.py
"""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matching_oracle as mo  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "taxonomy", "north_east.json")) as f:
    TAXONOMY = json.load(f)

HERE = {"lat": 54.9, "lon": -1.6}
AS_OF = "2024-03-31"


def profile(pid="p1", **overrides):
    """A level-0 PA at HERE, travelling 10 km, nothing else: under the
    default request its score is distance 1.0 (w .15) + trust 0 (w .05) +
    recency 0 (w .05, last_active unset) = .15 / .25 = 0.6."""
    p = {
        "id": pid,
        "version": 1,
        "status": "ACTIVE",
        "location": dict(HERE),
        "local_authority": "E08000021",
        "max_travel_km": 10.0,
    }
    p.update(overrides)
    return p


def request(**overrides):
    r = {"location": dict(HERE), "as_of": AS_OF}
    r.update(overrides)
    return r


def level4_checks():
    return {
        "identity_verified": True,
        "code_of_conduct_signed": True,
        "dbs": {"level": "DBS_ENHANCED", "update_service": True},
        "references_verified": 2,
    }


class OracleCase(unittest.TestCase):
    def setUp(self):
        self.oracle = mo.Oracle(TAXONOMY)

    def run_search(self, profiles, req, policies=None):
        return self.oracle.search(profiles, req, policies)

    def ids(self, profiles, req, policies=None):
        return [r["id"] for r in self.run_search(profiles, req, policies)["results"]]

    def only(self, p, req):
        out = self.run_search([p], req)["results"]
        self.assertEqual(len(out), 1)
        return out[0]

    def component(self, result, name):
        for n, value, weight in result["explanation"]["components"]:
            if n == name:
                return value, weight
        return None


class HardFilters(OracleCase):
    def test_paused_never_returned_unspecified_is_active(self):
        ps = [profile("a", status="PAUSED"),
              profile("b", status="PROFILE_STATUS_UNSPECIFIED"),
              profile("c", status="ACTIVE")]
        self.assertEqual(self.ids(ps, request()), ["b", "c"])

    def test_exclude_ids(self):
        ps = [profile("a"), profile("b")]
        r = request(exclude_ids=["a", "zz", "a"])
        self.assertEqual(self.ids(ps, r), ["b"])
        self.assertEqual(self.run_search(ps, r)["total_matches"], 1)

    def test_haversine_one_degree_of_latitude(self):
        # Same meridian: d = R * dphi = 6371.0088 * pi/180 = 111.195080 km.
        d = mo.haversine_km(54.0, -1.5, 55.0, -1.5)
        self.assertAlmostEqual(d, 111.195080, places=5)
        # Equator, one degree of longitude: the same arc.
        self.assertAlmostEqual(mo.haversine_km(0, 0, 0, 1), 111.195080, places=5)

    def test_max_distance_and_max_travel(self):
        far = profile("far", location={"lat": 55.9, "lon": -1.6},
                      max_travel_km=200.0)  # 111.195 km north of HERE
        self.assertEqual(self.ids([far], request(max_distance_km=111.19)), [])
        self.assertEqual(self.ids([far], request(max_distance_km=111.2)), ["far"])
        # Unset max_distance_km: only the PA's max_travel_km limits.
        self.assertEqual(self.ids([far], request()), ["far"])
        far["max_travel_km"] = 111.19
        self.assertEqual(self.ids([far], request()), [])
        self.assertEqual(self.ids([far], request(max_distance_km=1000)), [])

    def test_must_have_skills(self):
        p = profile(skills=["personal_care", "shopping"])
        self.assertEqual(self.ids([p], request(must_have_skills=["shopping"])), ["p1"])
        self.assertEqual(self.ids([p], request(
            must_have_skills=["shopping", "laundry"])), [])

    def test_required_training_expiry(self):
        on_day = profile("on", training=[{"code": "first_aid",
                                          "expires_on": "2024-03-31"}])
        day_before = profile("before", training=[{"code": "first_aid",
                                                  "expires_on": "2024-03-30"}])
        never = profile("never", training=[{"code": "first_aid"}])
        absent = profile("absent", training=[{"code": "fire_safety"}])
        # Listed twice: the latest expiry counts (no expiry = latest of all).
        twice = profile("twice", training=[
            {"code": "first_aid", "expires_on": "2024-03-30"},
            {"code": "first_aid", "expires_on": "2025-01-01"}])
        twice_never = profile("twice_never", training=[
            {"code": "first_aid", "expires_on": ""},
            {"code": "first_aid", "expires_on": "2020-01-01"}])
        ps = [on_day, day_before, never, absent, twice, twice_never]
        self.assertEqual(
            sorted(self.ids(ps, request(required_training=["first_aid"]))),
            ["never", "on", "twice", "twice_never"])

    def test_dbs_level_order(self):
        levels = ["DBS_LEVEL_UNSPECIFIED", "DBS_NONE", "DBS_BASIC", "DBS_STANDARD",
                  "DBS_ENHANCED", "DBS_ENHANCED_BARRED_ADULTS"]
        ps = [profile("l%d" % i, checks={"dbs": {"level": lv, "update_service": True}})
              for i, lv in enumerate(levels)]
        self.assertEqual(sorted(self.ids(ps, request(min_dbs_level="DBS_STANDARD"))),
                         ["l3", "l4", "l5"])
        # NONE requires nothing, not even freshness.
        self.assertEqual(len(self.ids(ps, request(min_dbs_level="DBS_NONE"))), 6)

    def test_dbs_freshness_month_ends(self):
        def issued(pid, date, update=False):
            return profile(pid, checks={"dbs": {"level": "DBS_ENHANCED",
                                                "issued_on": date,
                                                "update_service": update}})
        leap = issued("leap", "2020-02-29")
        # 2020-02-29 + 36 months = 2023-02-28 (clamped): fresh on 2023-02-28,
        # stale on 2023-03-01.
        r = request(min_dbs_level="DBS_BASIC", as_of="2023-02-28")
        self.assertEqual(self.ids([leap], r), ["leap"])
        r["as_of"] = "2023-03-01"
        self.assertEqual(self.ids([leap], r), [])
        # 2023-02-28 + 2 months = 2023-04-28 < 2023-04-30: stale, although
        # 2023-04-30 - 2 months (clamped) = 2023-02-28 would say fresh.
        feb = issued("feb", "2023-02-28")
        r = request(min_dbs_level="DBS_BASIC", as_of="2023-04-30",
                    dbs_max_age_months=2)
        self.assertEqual(self.ids([feb], r), [])
        r["as_of"] = "2023-04-28"
        self.assertEqual(self.ids([feb], r), ["feb"])
        # 2023-01-31 + 1 month = 2023-02-28.
        jan = issued("jan", "2023-01-31")
        r = request(min_dbs_level="DBS_BASIC", as_of="2023-02-28",
                    dbs_max_age_months=1)
        self.assertEqual(self.ids([jan], r), ["jan"])
        r["as_of"] = "2023-03-01"
        self.assertEqual(self.ids([jan], r), [])
        # 2021-08-31 + 6 months = 2022-02-28.
        aug = issued("aug", "2021-08-31")
        r = request(min_dbs_level="DBS_BASIC", as_of="2022-02-28",
                    dbs_max_age_months=6)
        self.assertEqual(self.ids([aug], r), ["aug"])
        r["as_of"] = "2022-03-01"
        self.assertEqual(self.ids([aug], r), [])
        # Update service: always fresh. No issue date: never fresh.
        upd = issued("upd", "2001-01-01", update=True)
        unknown = profile("unknown", checks={"dbs": {"level": "DBS_ENHANCED"}})
        self.assertEqual(self.ids([upd, unknown], r), ["upd"])
        # Default 36 months.
        d36 = issued("d36", "2021-03-31")  # + 36 = 2024-03-31 = AS_OF
        self.assertEqual(self.ids([d36], request(min_dbs_level="DBS_BASIC")), ["d36"])
        d36["checks"]["dbs"]["issued_on"] = "2021-03-30"
        self.assertEqual(self.ids([d36], request(min_dbs_level="DBS_BASIC")), [])

    def test_register_level_derivation(self):
        tax = mo.Taxonomy(TAXONOMY)
        p = profile()
        self.assertEqual(mo.register_level(p, tax), 0)
        p["checks"] = {"identity_verified": True}
        self.assertEqual(mo.register_level(p, tax), 0)
        p["checks"]["code_of_conduct_signed"] = True
        self.assertEqual(mo.register_level(p, tax), 1)
        p["checks"]["dbs"] = {"level": "DBS_BASIC"}
        p["training"] = [{"code": "pa_induction", "expires_on": "2000-01-01"}]
        self.assertEqual(mo.register_level(p, tax), 1)  # BASIC < STANDARD
        p["checks"]["dbs"]["level"] = "DBS_STANDARD"  # no date, not fresh: fine
        self.assertEqual(mo.register_level(p, tax), 2)  # expired induction counts
        p["qualifications"] = ["care_certificate"]
        p["checks"]["references_verified"] = 1
        self.assertEqual(mo.register_level(p, tax), 2)
        p["checks"]["references_verified"] = 2
        self.assertEqual(mo.register_level(p, tax), 3)
        p["qualifications"].append("bsl_level3")  # specialist
        self.assertEqual(mo.register_level(p, tax), 4)
        # Specialist qualification without level 3 evidence: not 4.
        p["checks"]["references_verified"] = 0
        self.assertEqual(mo.register_level(p, tax), 2)
        p["checks"]["identity_verified"] = False
        self.assertEqual(mo.register_level(p, tax), 0)

    def test_min_register_level(self):
        l1 = profile("l1", checks={"identity_verified": True,
                                   "code_of_conduct_signed": True})
        l0 = profile("l0")
        self.assertEqual(self.ids([l0, l1], request(min_register_level=1)), ["l1"])
        self.assertEqual(self.ids([l0, l1], request(min_register_level=2)), [])

    def test_boolean_requirements(self):
        p = profile(checks={"driving_licence": True},
                    attributes={"non_smoker": True})
        self.assertEqual(self.ids([p], request(requires_driver=True)), ["p1"])
        self.assertEqual(self.ids([p], request(requires_car=True)), [])
        self.assertEqual(self.ids([p], request(has_pets=True)), [])
        self.assertEqual(self.ids([p], request(requires_non_smoker=True)), ["p1"])
        self.assertEqual(self.ids([p], request(short_notice=True)), [])
        p["attributes"]["short_notice_cover"] = True
        p["attributes"]["ok_with_pets"] = True
        self.assertEqual(self.ids([p], request(short_notice=True, has_pets=True)),
                         ["p1"])

    def test_required_languages(self):
        p = profile(attributes={"languages": ["en", "pl"]})
        self.assertEqual(self.ids([p], request(required_languages=["pl", "en"])), ["p1"])
        self.assertEqual(self.ids([p], request(required_languages=["en", "ur"])), [])

    def test_required_gender(self):
        f = profile("f", attributes={"gender": "GENDER_FEMALE"})
        u = profile("u")  # gender unset = UNDISCLOSED
        # (The server only accepts required_gender with personal_care among
        # must_have_skills; the oracle does not validate.)
        self.assertEqual(self.ids([f, u], request(required_gender="GENDER_FEMALE")),
                         ["f"])
        self.assertEqual(self.ids([f, u], request(
            required_gender="GENDER_UNDISCLOSED")), ["u"])
        # UNSPECIFIED in a request: no requirement.
        self.assertEqual(len(self.ids([f, u], request(
            required_gender="GENDER_UNSPECIFIED"))), 2)

    def test_min_schedule_coverage(self):
        # Needed: Monday 09:00-11:00 = 4 slots.
        sched = [{"day": "MONDAY", "start": "09:00", "end": "11:00"}]
        half = profile("half", availability=[
            {"day": "MONDAY", "start": "10:00", "end": "12:00"}])  # 2 of 4
        quarter = profile("quarter", availability=[
            {"day": "MONDAY", "start": "08:00", "end": "09:30"}])  # 1 of 4
        r = request(schedule=sched, min_schedule_coverage=0.5)
        self.assertEqual(self.ids([half, quarter], r), ["half"])
        # 0.3 with 10 needed and 3 covered: 3/10 >= 0.3.
        sched10 = [{"day": "TUESDAY", "start": "00:00", "end": "05:00"}]
        three = profile("three", availability=[
            {"day": "TUESDAY", "start": "01:00", "end": "02:30"}])
        r = request(schedule=sched10, min_schedule_coverage=0.3)
        self.assertEqual(self.ids([three], r), ["three"])
        r["min_schedule_coverage"] = 0.7
        seven = profile("seven", availability=[
            {"day": "TUESDAY", "start": "00:00", "end": "03:30"}])
        self.assertEqual(self.ids([three, seven], r), ["seven"])
        # The ratio is compared, not covered >= floor * needed: 0.28 * 25 is
        # 7.000000000000001 in doubles, yet 7 of 25 slots is 0.28.
        sched25 = [{"day": "FRIDAY", "start": "08:00", "end": "20:30"}]
        seven25 = profile("seven25", availability=[
            {"day": "FRIDAY", "start": "08:00", "end": "11:30"}])
        six25 = profile("six25", availability=[
            {"day": "FRIDAY", "start": "08:00", "end": "11:00"}])
        r = request(schedule=sched25, min_schedule_coverage=0.28)
        self.assertEqual(self.ids([seven25, six25], r), ["seven25"])
        # Empty schedule: the coverage filter is ignored.
        self.assertEqual(sorted(self.ids([half, quarter], request(
            min_schedule_coverage=1.0))), ["half", "quarter"])

    def test_max_hourly_rate(self):
        p = profile(min_hourly_rate_pence=1500)
        self.assertEqual(self.ids([p], request(max_hourly_rate_pence=1500)), ["p1"])
        self.assertEqual(self.ids([p], request(max_hourly_rate_pence=1499)), [])
        self.assertEqual(self.ids([p], request(max_hourly_rate_pence=0)), ["p1"])

    def test_policy_is_stricter_of_both(self):
        l1 = profile("l1", checks={"identity_verified": True,
                                   "code_of_conduct_signed": True,
                                   "dbs": {"level": "DBS_BASIC",
                                           "issued_on": "2024-01-01"}},
                     training=[{"code": "first_aid"}])
        policies = {"E08000021": {"local_authority": "E08000021",
                                  "min_register_level": 1,
                                  "min_dbs_level": "DBS_BASIC",
                                  "required_training": ["safeguarding_adults"]}}
        r = request(local_authority="E08000021", required_training=["first_aid"])
        out = self.run_search([l1], r, policies)
        self.assertEqual(out["total_matches"], 0)  # lacks safeguarding_adults
        self.assertEqual(out["applied_policy"], "E08000021")
        l1["training"].append({"code": "safeguarding_adults"})
        self.assertEqual(self.ids([l1], r, policies), ["l1"])
        # The request can be stricter than the policy.
        r["min_dbs_level"] = "DBS_STANDARD"
        self.assertEqual(self.ids([l1], r, policies), [])
        r["min_dbs_level"] = "DBS_NONE"
        # The policy's BASIC floor brings the freshness rule: issued
        # 2024-01-01, 1 month later is 2024-02-01 < 2024-03-31.
        r["dbs_max_age_months"] = 1
        self.assertEqual(self.ids([l1], r, policies), [])
        # Another authority's policy does not apply.
        r2 = request(local_authority="E08000022")
        out = self.run_search([profile("x")], r2, policies)
        self.assertEqual(out["applied_policy"], "")
        self.assertEqual(out["total_matches"], 1)

    def test_location_defaults_to_local_authority_centre(self):
        # Newcastle centre 55.005, -1.66. A PA there is at distance 0.
        p = profile(location={"lat": 55.005, "lon": -1.66})
        r = {"local_authority": "E08000021", "as_of": AS_OF, "explain": True}
        res = self.run_search([p], r)["results"][0]
        self.assertEqual(res["distance_km"], 0.0)
        self.assertEqual(res["score"], 0.6)


class Scores(OracleCase):
    def test_base_score(self):
        # distance 1 * .15 + trust 0 * .05 + recency 0 * .05 over .25 = 0.6.
        res = self.only(profile(), request())
        self.assertEqual(res["score"], 0.6)
        self.assertEqual([c[0] for c in res["explanation"]["components"]],
                         ["distance", "trust", "recency"])

    def test_distance_component_halves_every_8_km(self):
        # 0.5 ^ (d/8); one degree of latitude = 111.195080 km.
        p = profile(location={"lat": 55.9, "lon": -1.6}, max_travel_km=200.0)
        res = self.only(p, request())
        value, weight = self.component(res, "distance")
        self.assertAlmostEqual(value, 0.5 ** (111.195080 / 8), places=9)
        self.assertEqual(weight, 0.15)
        self.assertEqual(res["explanation"]["distance_km"], 111.195)

    def test_skills_component(self):
        # 2 of 3 nice-to-have held (duplicates ignored):
        # (.30 * 2/3 + .15) / .55 = (.2 + .15) / .55 = 0.636363...
        p = profile(skills=["shopping", "laundry", "gardening"])
        r = request(nice_to_have_skills=["shopping", "laundry", "driving", "laundry"],
                    explain=True)
        res = self.only(p, r)
        self.assertEqual(res["score"], 0.636364)
        # In the request's order, first occurrence.
        self.assertEqual(res["explanation"]["matched_skills"], ["shopping", "laundry"])
        self.assertEqual(res["explanation"]["missing_skills"], ["driving"])

    def test_schedule_component_last_slot_and_overlaps(self):
        # Needed: SUNDAY 23:00-24:00 (slots 334, 335) and MONDAY 00:00-01:00
        # given twice, overlapping (slots 0, 1): 4 slots.
        sched = [{"day": "SUNDAY", "start": "23:00", "end": "24:00"},
                 {"day": "MONDAY", "start": "00:00", "end": "01:00"},
                 {"day": "MONDAY", "start": "00:30", "end": "01:00"}]
        # Available: SUNDAY 23:30-24:00 (slot 335) and MONDAY 00:00-00:30
        # adjacent to 00:30-01:00 (slots 0, 1): 3 of 4.
        p = profile(availability=[
            {"day": "SUNDAY", "start": "23:30", "end": "24:00"},
            {"day": "MONDAY", "start": "00:00", "end": "00:30"},
            {"day": "MONDAY", "start": "00:30", "end": "01:00"}])
        res = self.only(p, request(schedule=sched))
        self.assertEqual(res["explanation"]["needed_slots"], 4)
        self.assertEqual(res["explanation"]["covered_slots"], 3)
        # (.25 * .75 + .15) / .50 = (.1875 + .15) / .5 = 0.675.
        self.assertEqual(res["score"], 0.675)
        self.assertEqual(mo.slots_of([{"day": "SUNDAY", "start": "23:30",
                                       "end": "24:00"}]), {335})

    def test_interests_and_preferences(self):
        p = profile(attributes={"interests": ["music", "football"],
                                "languages": ["pl"],
                                "gender": "GENDER_MALE"})
        r = request(interests=["music", "films", "gaming", "reading"],
                    preferred_languages=["en", "pl"],
                    preferred_genders=["GENDER_FEMALE"],
                    preferred_age_bands=["AGE_BAND_UNDISCLOSED"])
        res = self.only(p, r)
        # interests 1/4; preferences: languages hit, gender miss, age band
        # unset = UNDISCLOSED hit: 2/3.
        self.assertEqual(self.component(res, "interests"), (0.25, 0.10))
        self.assertAlmostEqual(self.component(res, "preferences")[0], 2 / 3)
        # (.1*.25 + .1*2/3 + .15) / .45 = (.025 + .0666667 + .15)/.45
        # = .2416667 / .45 = 0.537037...
        self.assertEqual(res["score"], 0.537037)
        self.assertEqual(res["explanation"]["shared_interests"], ["music"])

    def test_preferred_gender_undisclosed_matches_unset(self):
        p = profile()
        res = self.only(p, request(preferred_genders=["GENDER_UNDISCLOSED"]))
        self.assertEqual(self.component(res, "preferences"), (1.0, 0.10))

    def test_training_component(self):
        p = profile(training=[{"code": "first_aid", "expires_on": "2024-03-31"},
                              {"code": "fire_safety", "expires_on": "2024-03-30"}])
        res = self.only(p, request(preferred_training=["first_aid", "fire_safety",
                                                       "food_hygiene"]))
        # 1 of 3 held and unexpired: (.05/3 + .15) / .30 = 0.555556 (0.5555...)
        self.assertAlmostEqual(self.component(res, "training")[0], 1 / 3)
        self.assertEqual(res["score"], 0.555556)

    def test_trust_component(self):
        p = profile(checks=level4_checks(),
                    training=[{"code": "pa_induction"}],
                    qualifications=["registered_nurse"])
        res = self.only(p, request())
        self.assertEqual(res["register_level"], 4)
        # (.15 + .05) / .25 = 0.8
        self.assertEqual(res["score"], 0.8)

    def test_recency_days(self):
        # as_of 2024-03-31; midnight minus exactly 30 days = 2024-03-01T00:00Z.
        cases = [
            ("2024-03-01T00:00:00Z", 30),
            ("2024-02-29T23:59:59.999999999Z", 30),  # 30 d + 1 ns: floor 30
            ("2024-03-01T00:00:00.000000001Z", 29),  # 30 d - 1 ns: floor 29
            ("2024-03-31T00:00:00Z", 0),
            ("2024-03-31T12:00:00Z", 0),              # later that day
            ("2024-04-05T00:00:00Z", 0),              # future: max(0, ...)
            ("2024-03-30T00:00:00Z", 1),
        ]
        as_of = mo.parse_date(AS_OF)
        for stamp, days in cases:
            self.assertEqual(mo.recency_days(as_of, stamp), days, stamp)
        # 30 days: recency 0.5 -> (.15 + .025) / .25 = 0.7.
        res = self.only(profile(last_active="2024-03-01T00:00:00Z"), request())
        self.assertEqual(self.component(res, "recency"), (0.5, 0.05))
        self.assertEqual(res["score"], 0.7)

    def test_weights_override_and_all_zero(self):
        p = profile(last_active="2024-03-01T00:00:00Z")
        # Only recency counts: score = 0.5.
        res = self.only(p, request(weights={"distance": 0.0, "trust": 0.0}))
        self.assertEqual(res["score"], 0.5)
        # Zero weights still list the applied component in the explanation.
        self.assertEqual(self.component(res, "distance"), (1.0, 0.0))
        res = self.only(p, request(weights={"distance": 0.0, "trust": 0.0,
                                            "recency": 0.0, "skills": 5.0}))
        self.assertEqual(res["score"], 0.0)  # skills does not apply

    def test_rounding_exact_value_ties_to_even(self):
        # Only schedule weighs: needed 128 slots (Monday 00:00 - Wednesday
        # 16:00: 48 + 48 + 32), covered 1: 1/128 = 0.0078125 -> 0.007812
        # (the even neighbour; half away from zero would give 0.007813).
        sched = [{"day": "MONDAY", "start": "00:00", "end": "24:00"},
                 {"day": "TUESDAY", "start": "00:00", "end": "24:00"},
                 {"day": "WEDNESDAY", "start": "00:00", "end": "16:00"}]
        p = profile(availability=[{"day": "WEDNESDAY", "start": "15:30",
                                   "end": "16:00"}])
        res = self.only(p, request(schedule=sched, weights={
            "distance": 0, "trust": 0, "recency": 0}))
        self.assertEqual(res["explanation"]["needed_slots"], 128)
        # 1/128 = 0.0078125 exactly: a true half, to the even neighbour.
        self.assertEqual(res["score"], 0.007812)
        self.assertEqual(mo.round_score(3 / 128), 0.023438)
        # 5e-7 is just under a half in binary (5e-7 * 1e6 rounds to 0.5).
        self.assertEqual(mo.round_score(0.0000005), 0.0)
        self.assertEqual(mo.round_score(0.0000015), 0.000002)
        self.assertEqual(mo.round_score(0.4999994999), 0.499999)
        self.assertEqual(mo.round_km(1.0005), 1.0)  # just under a half
        self.assertEqual(mo.round_km(0.0005), 0.001)  # just over


class Ordering(OracleCase):
    def test_score_then_distance_then_id(self):
        near = {"lat": 54.9, "lon": -1.5}
        ps = [profile("b", location=dict(near)),
              profile("a", location=dict(near)),
              profile("B", location=dict(near)),
              profile("c"),                                   # distance 0
              profile("z", last_active="2024-03-31T00:00:00Z")]  # best score
        # All-zero weights: every score 0, so distance then id decides.
        out = self.ids(ps, request(weights={"distance": 0, "trust": 0,
                                            "recency": 0}))
        self.assertEqual(out, ["c", "z", "B", "a", "b"])  # 'B' < 'a' bytewise
        out = self.ids(ps, request())
        self.assertEqual(out, ["z", "c", "B", "a", "b"])

    def test_mirrored_distances_tie(self):
        east = profile("east", location={"lat": 54.875, "lon": -1.4375})
        west = profile("west", location={"lat": 54.875, "lon": -1.5625})
        r = request(location={"lat": 54.875, "lon": -1.5})
        out = self.run_search([west, east], r)["results"]
        self.assertEqual(out[0]["distance_km"], out[1]["distance_km"])
        self.assertEqual([x["id"] for x in out], ["east", "west"])

    def test_paging(self):
        ps = [profile("p%02d" % i) for i in range(45)]
        out = self.run_search(ps, request())["results"]
        page1, more1 = mo.Oracle.page(out, 0, 0)
        self.assertEqual(len(page1), 20)
        self.assertTrue(more1)
        page3, more3 = mo.Oracle.page(out, 40, 0)
        self.assertEqual([x["id"] for x in page3], ["p40", "p41", "p42", "p43", "p44"])
        self.assertFalse(more3)
        # Exactly exhausted: no more results.
        _, more = mo.Oracle.page(out, 25, 20)
        self.assertFalse(more)


class Dates(unittest.TestCase):
    def test_add_months_clamps(self):
        d = mo.parse_date
        self.assertEqual(mo.add_months(d("2020-02-29"), 36), d("2023-02-28"))
        self.assertEqual(mo.add_months(d("2020-02-29"), 48), d("2024-02-29"))
        self.assertEqual(mo.add_months(d("2023-01-31"), 1), d("2023-02-28"))
        self.assertEqual(mo.add_months(d("2024-01-31"), 1), d("2024-02-29"))
        self.assertEqual(mo.add_months(d("2021-08-31"), 13), d("2022-09-30"))
        self.assertEqual(mo.add_months(d("2023-12-15"), 600), d("2073-12-15"))
        self.assertEqual(mo.add_months(d("2023-11-30"), 2), d("2024-01-30"))


if __name__ == "__main__":
    unittest.main()
