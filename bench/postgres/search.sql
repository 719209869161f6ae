-- The search contract (../shared/MATCHING.md, docs/MATCHING-DECISIONS.md)
-- in SQL: pa_search(...) returns the first page of a search, each row
-- carrying total_matches and applied_policy. Inputs are assumed valid (the
-- baseline serves the standard query mix; pa-match validates).
--
-- Floating point: every expression repeats the engine's operations in the
-- engine's order (engine/scoring.cc), on the same libm, so distances and
-- scores agree to the bit: degrees*(pi/180) as one multiplication by
-- 0.017453292519943295, differences taken in degrees, s*s rather than
-- power(s, 2), components summed in the contract's table order, and
-- rounding of the exact binary value with ties to even, as the engine's
-- RoundDecimal (PostgreSQL's round(float8) rounds the already rounded
-- product raw * 1e6, so it is written out).

-- Taxonomy codes -> sorted distinct ids; an unknown code is an error (the
-- server would answer INVALID_ARGUMENT).
CREATE OR REPLACE FUNCTION pa_codes(k text, codes text[]) RETURNS int4[]
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  ids int4[];
  wanted int;
BEGIN
  IF codes IS NULL OR cardinality(codes) = 0 THEN
    RETURN '{}';
  END IF;
  SELECT coalesce(array_agg(DISTINCT t.id ORDER BY t.id), '{}')
    INTO ids FROM taxo_code t WHERE t.kind = k AND t.code = ANY (codes);
  SELECT count(DISTINCT c) INTO wanted FROM unnest(codes) c;
  IF cardinality(ids) <> wanted THEN
    RAISE EXCEPTION 'unknown % code in %', k, codes;
  END IF;
  RETURN ids;
END
$fn$;

-- Enum numbers as in proto/pamatch/v1/matcher.proto. q_schedule holds one
-- 'DAY HH:MM HH:MM' string per interval (DAY 1 = MONDAY .. 7 = SUNDAY).
-- NULL q_lat: start from q_la's centre. NULL q_max_km: unset.
-- q_weights: 8 entries in table order, NULL = default weight.
CREATE OR REPLACE FUNCTION pa_search(
  q_lat float8, q_lon float8, q_la text, q_max_km float8,
  q_must text[], q_nice text[], q_req_training text[], q_pref_training text[],
  q_min_dbs int, q_dbs_months int, q_min_level int,
  q_driver bool, q_car bool, q_pets bool, q_non_smoker bool,
  q_req_lang text[], q_pref_lang text[], q_pref_genders int[], q_pref_ages int[],
  q_req_gender int, q_interests text[], q_schedule text[], q_min_cov float8,
  q_short_notice bool, q_max_rate bigint, q_exclude text[], q_as_of date,
  q_weights float8[], q_limit int)
RETURNS TABLE (id text, score float8, distance_km float8, register_level int,
               total_matches bigint, applied_policy text)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  k_rad CONSTANT text := '0.017453292519943295::float8';  -- pi/180 as a double
  pol la_policy%ROWTYPE;
  applied text := '';
  min_dbs int := greatest(coalesce(q_min_dbs, 1), 1);    -- UNSPECIFIED = NONE
  min_level int := coalesce(q_min_level, 0);
  months int := coalesce(q_dbs_months, 36);
  req_training text[] := coalesce(q_req_training, '{}');
  must int4[];
  nice int4[];
  req_t int4[];
  pref_t int4[];
  ints int4[];
  c int;
  needed bit(336) := repeat('0', 336)::bit(336);
  n_needed int;
  iv text;
  parts text[];
  first_slot int;
  end_slot int;
  asof_day int := q_as_of - date '1970-01-01';
  asof_ns bigint := (q_as_of - date '1970-01-01')::bigint * 86400000000000;
  w float8[] := ARRAY[0.30, 0.25, 0.15, 0.10, 0.10, 0.05, 0.05, 0.05]::float8[];
  total_w float8 := 0;
  terms text[] := '{}';
  pref text[] := '{}';
  hits text[];
  filters text;
  resid text := 'dist <= max_travel_km';
  raw text;
  clat float8 := q_lat;
  clon float8 := q_lon;
  cos_q float8;
  center geography;
  radius_m float8;
  sql text;
BEGIN
  IF clat IS NULL THEN
    SELECT t.lat, t.lon INTO STRICT clat, clon FROM taxo_la t WHERE t.code = q_la;
  END IF;
  cos_q := cos(clat * 0.017453292519943295::float8);
  center := ST_SetSRID(ST_MakePoint(clon, clat), 4326)::geography;

  -- The stricter of request and the local authority's policy.
  IF coalesce(q_la, '') <> '' THEN
    SELECT * INTO pol FROM la_policy p WHERE p.local_authority = q_la;
    IF FOUND THEN
      applied := q_la;
      min_dbs := greatest(min_dbs, pol.min_dbs_level);
      min_level := greatest(min_level, pol.min_register_level);
      req_training := req_training || pol.required_training;
    END IF;
  END IF;

  must := pa_codes('skill', q_must);
  nice := pa_codes('skill', q_nice);
  req_t := pa_codes('training', req_training);
  pref_t := pa_codes('training', q_pref_training);
  ints := pa_codes('interest', q_interests);

  FOREACH iv IN ARRAY coalesce(q_schedule, '{}') LOOP
    parts := string_to_array(iv, ' ');
    first_slot := (split_part(parts[2], ':', 1)::int * 60 + split_part(parts[2], ':', 2)::int) / 30;
    end_slot := (split_part(parts[3], ':', 1)::int * 60 + split_part(parts[3], ':', 2)::int) / 30;
    FOR s IN first_slot .. end_slot - 1 LOOP
      needed := set_bit(needed, (parts[1]::int - 1) * 48 + s, 1);
    END LOOP;
  END LOOP;
  n_needed := bit_count(needed);

  IF q_weights IS NOT NULL THEN
    FOR i IN 1 .. 8 LOOP
      IF q_weights[i] IS NOT NULL THEN w[i] := q_weights[i]; END IF;
    END LOOP;
  END IF;

  -- Hard filters that do not need the distance: evaluated in the scan, so
  -- the planner can answer them from the GIN indexes where that pays.
  -- The radius prefilter is the index half of ST_DWithin (the geography
  -- bounding box expanded by the radius, answered by the GiST index):
  -- ST_DWithin's exact half would compute a second, different distance
  -- (PostGIS's sphere or spheroid) per row, only for the contract's
  -- haversine to decide anyway. radius_m is 1 % + 1 km wider than the
  -- largest distance allowed, so the prefilter never drops a match.
  filters := 'p.active AND p.geog && _ST_Expand($1, $2)';
  IF cardinality(must) > 0 THEN
    filters := filters || format(' AND p.skills @> %L::int4[]', must);
  END IF;
  IF cardinality(req_t) > 0 THEN
    filters := filters || format(' AND p.train_codes @> %L::int4[]', req_t);
    FOREACH c IN ARRAY req_t LOOP
      filters := filters || format(' AND p.train_exp[%s] >= %s', c, asof_day);
    END LOOP;
  END IF;
  IF min_dbs > 1 THEN
    -- issued_on + N calendar months (PostgreSQL clamps the day to the
    -- month's end, as the contract does) on or after as_of.
    filters := filters || format(
      ' AND p.dbs_level >= %s AND (p.dbs_update OR (p.dbs_issued + %L::interval)::date >= %L::date)',
      min_dbs, months || ' months', q_as_of);
  END IF;
  IF min_level > 0 THEN
    filters := filters || format(' AND p.register_level >= %s', min_level);
  END IF;
  IF q_driver THEN filters := filters || ' AND p.driving_licence'; END IF;
  IF q_car THEN filters := filters || ' AND p.has_car'; END IF;
  IF q_pets THEN filters := filters || ' AND p.ok_with_pets'; END IF;
  IF q_non_smoker THEN filters := filters || ' AND p.non_smoker'; END IF;
  IF cardinality(q_req_lang) > 0 THEN
    filters := filters || format(' AND p.languages @> %L::text[]', q_req_lang);
  END IF;
  IF coalesce(q_req_gender, 0) <> 0 THEN
    filters := filters || format(' AND p.gender = %s', q_req_gender);
  END IF;
  IF n_needed > 0 AND q_min_cov > 0 THEN
    filters := filters || format(
      ' AND bit_count(p.avail & $3)::float8 / %s::float8 >= $4', n_needed);
  END IF;
  IF q_short_notice THEN filters := filters || ' AND p.short_notice'; END IF;
  IF coalesce(q_max_rate, 0) > 0 THEN
    filters := filters || format(' AND p.min_rate <= %s', q_max_rate);
  END IF;
  IF cardinality(q_exclude) > 0 THEN
    filters := filters || format(' AND p.id <> ALL (%L::text[])', q_exclude);
  END IF;
  IF q_max_km IS NOT NULL THEN
    resid := resid || ' AND dist <= $5';
  END IF;

  -- Score components that apply, in the contract's table order.
  IF cardinality(nice) > 0 THEN
    total_w := total_w + w[1];
    hits := '{}';
    FOREACH c IN ARRAY nice LOOP
      hits := hits || format('(%s = ANY (skills))::int', c);
    END LOOP;
    terms := terms || format('%s::float8 * ((%s)::float8 / %s::float8)',
                             w[1], array_to_string(hits, ' + '), cardinality(nice));
  END IF;
  IF n_needed > 0 THEN
    total_w := total_w + w[2];
    terms := terms || format('%s::float8 * (bit_count(avail & $3)::float8 / %s::float8)',
                             w[2], n_needed);
  END IF;
  total_w := total_w + w[3];
  terms := terms || format('%s::float8 * power(0.5::float8, dist / 8::float8)', w[3]);
  IF cardinality(ints) > 0 THEN
    total_w := total_w + w[4];
    hits := '{}';
    FOREACH c IN ARRAY ints LOOP
      hits := hits || format('(%s = ANY (interests))::int', c);
    END LOOP;
    terms := terms || format('%s::float8 * ((%s)::float8 / %s::float8)',
                             w[4], array_to_string(hits, ' + '), cardinality(ints));
  END IF;
  IF cardinality(q_pref_lang) > 0 THEN
    pref := pref || format('(languages && %L::text[])::int', q_pref_lang);
  END IF;
  IF cardinality(q_pref_genders) > 0 THEN
    -- UNSPECIFIED in a preference list means UNDISCLOSED, as in profiles.
    pref := pref || format('(gender = ANY (%L::int[]))::int',
      (SELECT array_agg(CASE WHEN g = 0 THEN 4 ELSE g END) FROM unnest(q_pref_genders) g));
  END IF;
  IF cardinality(q_pref_ages) > 0 THEN
    pref := pref || format('(age_band = ANY (%L::int[]))::int',
      (SELECT array_agg(CASE WHEN a = 0 THEN 6 ELSE a END) FROM unnest(q_pref_ages) a));
  END IF;
  IF cardinality(pref) > 0 THEN
    total_w := total_w + w[5];
    terms := terms || format('%s::float8 * ((%s)::float8 / %s::float8)',
                             w[5], array_to_string(pref, ' + '), cardinality(pref));
  END IF;
  IF cardinality(pref_t) > 0 THEN
    total_w := total_w + w[6];
    hits := '{}';
    FOREACH c IN ARRAY pref_t LOOP
      hits := hits || format('(train_exp[%s] >= %s)::int', c, asof_day);
    END LOOP;
    terms := terms || format('%s::float8 * ((%s)::float8 / %s::float8)',
                             w[6], array_to_string(hits, ' + '), cardinality(pref_t));
  END IF;
  total_w := total_w + w[7];
  terms := terms || format('%s::float8 * (register_level::float8 / 4::float8)', w[7]);
  total_w := total_w + w[8];
  -- days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h)); integer
  -- division truncates, which differs from floor only below zero, where
  -- greatest() makes both 0.
  terms := terms || format(
    '%s::float8 * (CASE WHEN last_active_ns IS NULL THEN 0::float8 ELSE '
    'power(0.5::float8, greatest(0, (%s::bigint - last_active_ns) / 86400000000000)::float8 / 30::float8) END)',
    w[8], asof_ns);

  IF total_w = 0 THEN
    raw := '0::float8';
  ELSE
    raw := format('(%s) / %s::float8', array_to_string(terms, ' + '), total_w);
  END IF;

  -- Layers (OFFSET 0 keeps each from being flattened into the next, so a
  -- value is computed once per row, not once per reference):
  --   scan: index prefilter + distance-free hard filters, sin terms
  --   d:    haversine distance
  --   m:    distance filters, raw score
  --   top:  score rounded to 6 dp as the engine's RoundDecimal does (the
  --         exact binary value, ties to even; p = raw * 1e6 is rounded, so
  --         when it lands exactly on a half, the sign of the product's
  --         error, raw * 1e6 - p, is found by Veltkamp's split of raw),
  --         exact count, page
  sql := format($q$
    SELECT id, score, dist, register_level::int, count(*) OVER (), %L::text
    FROM (
      SELECT id, dist, register_level,
             (CASE WHEN f > 0.5::float8 THEN b + 1::float8
                   WHEN f < 0.5::float8 THEN b
                   WHEN (hi * 1e6::float8 - p) + (raw - hi) * 1e6::float8 > 0::float8
                     THEN b + 1::float8
                   WHEN (hi * 1e6::float8 - p) + (raw - hi) * 1e6::float8 < 0::float8
                     THEN b
                   WHEN b - 2::float8 * floor(b / 2::float8) = 0::float8 THEN b
                   ELSE b + 1::float8 END) / 1e6::float8 AS score
      FROM (
        SELECT *, floor(p) AS b, p - floor(p) AS f,
               134217729::float8 * raw - (134217729::float8 * raw - raw) AS hi
        FROM (
        SELECT id, dist, register_level, raw, raw * 1e6::float8 AS p
        FROM (
        SELECT id, dist, register_level, %s AS raw
        FROM (
          SELECT *, (2::float8 * 6371.0088::float8)
                    * asin(least(1::float8, sqrt(s1 * s1 + ($6 * cos_lat) * (s2 * s2)))) AS dist
          FROM (
            SELECT p.id, p.max_travel_km, p.cos_lat, p.skills, p.interests, p.languages,
                   p.gender, p.age_band, p.train_exp, p.avail, p.register_level,
                   p.last_active_ns,
                   sin((p.lat - $7) * %s / 2::float8) AS s1,
                   sin((p.lon - $8) * %s / 2::float8) AS s2
            FROM pa p
            WHERE %s
            OFFSET 0) scan
          OFFSET 0) d
        WHERE %s
        OFFSET 0) m
        OFFSET 0) pr
        ) r
      ) top
    ORDER BY score DESC, dist, id
    LIMIT %s$q$, applied, raw, k_rad, k_rad, filters, resid, q_limit);

  radius_m := least(coalesce(q_max_km, 200), 200) * 1010 + 1000;
  RETURN QUERY EXECUTE sql
    USING center, radius_m, needed, q_min_cov, q_max_km, cos_q, clat, clon;
END
$fn$;
