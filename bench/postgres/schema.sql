-- PostgreSQL + PostGIS baseline for pa-match: the schema.
-- docs/POSTGRES-BASELINE.md explains every choice. Loaded by run.sh before
-- the data; indexes.sql runs after the COPY (building indexes once over the
-- loaded table is much faster than maintaining them row by row).
CREATE EXTENSION IF NOT EXISTS postgis;

-- The taxonomy's codes as small integers: arrays of int4 are smaller and
-- compare faster than arrays of text, and GIN entries are 4 bytes.
-- kind: skill, training, interest (1-based ids in taxonomy file order).
CREATE TABLE taxo_code (
  kind text NOT NULL,
  code text NOT NULL,
  id   int  NOT NULL,
  PRIMARY KEY (kind, code)
);

-- Local authority centres: a search without a location starts there.
CREATE TABLE taxo_la (
  code text PRIMARY KEY,
  lat  float8 NOT NULL,
  lon  float8 NOT NULL
);

-- Operator floors per local authority (SetPolicy). The driver's check mode
-- copies pa-matchd's ListPolicies here, so both judge with the same policies.
CREATE TABLE la_policy (
  local_authority    text PRIMARY KEY,
  min_dbs_level      int NOT NULL,   -- 1 NONE .. 5 ENHANCED_BARRED_ADULTS
  min_register_level int NOT NULL,
  required_training  text[] NOT NULL
);

-- One row per profile, holding exactly what filters and the score read.
CREATE TABLE pa (
  id              text COLLATE "C" PRIMARY KEY,  -- byte order, as the contract's tie-break
  active          boolean NOT NULL,               -- status != PAUSED
  lat             float8 NOT NULL,
  lon             float8 NOT NULL,
  cos_lat         float8 NOT NULL,                -- cos(lat in radians), as the engine caches it
  geog            geography(Point, 4326) NOT NULL,
  max_travel_km   float8 NOT NULL,
  skills          int4[] NOT NULL,                -- taxo_code 'skill' ids, sorted, distinct
  train_codes     int4[] NOT NULL,                -- every training code held (any expiry)
  -- Indexed by training id: latest expiry as days since 1970-01-01;
  -- 2147483647 = never expires, -2147483648 = not held. "Present and
  -- unexpired on as_of" is then one subscript and one comparison.
  train_exp       int4[] NOT NULL,
  languages       text[] NOT NULL,
  interests       int4[] NOT NULL,
  dbs_level       smallint NOT NULL,              -- 1 NONE .. 5 (unset = NONE)
  dbs_issued      date,                           -- NULL = unknown
  dbs_update      boolean NOT NULL,
  register_level  smallint NOT NULL,              -- derived at load (MATCHING.md)
  driving_licence boolean NOT NULL,
  has_car         boolean NOT NULL,
  ok_with_pets    boolean NOT NULL,
  non_smoker      boolean NOT NULL,
  short_notice    boolean NOT NULL,
  gender          smallint NOT NULL,              -- 1..4, unset = 4 UNDISCLOSED
  age_band        smallint NOT NULL,              -- 1..6, unset = 6 UNDISCLOSED
  avail           bit(336) NOT NULL,              -- slot = day*48 + half-hour
  min_rate        int NOT NULL,
  last_active_ns  bigint                          -- ns since epoch; NULL = never
);
