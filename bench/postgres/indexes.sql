-- Indexes, built once after the COPY (docs/POSTGRES-BASELINE.md).
\timing on

-- Every search is a radius search: GiST on the geography, used by
-- ST_DWithin as the (conservative) prefilter. Not partial: CLUSTER needs a
-- full index.
CREATE INDEX pa_geog ON pa USING gist (geog);

-- Store rows in the order of the GiST index, so the profiles around one
-- place share heap pages and a radius search reads few, mostly contiguous,
-- pages (the bitmap heap scan then touches far fewer blocks).
CLUSTER pa USING pa_geog;

-- Set filters: GIN on the arrays (must-have skills, required languages,
-- required training). Not partial on `active`: with partial indexes the
-- planner scanned a whole GIN index merely to apply "active" (95 % of rows
-- are active, so it filters nothing worth an index).
CREATE INDEX pa_skills ON pa USING gin (skills);
CREATE INDEX pa_languages ON pa USING gin (languages);
CREATE INDEX pa_train_codes ON pa USING gin (train_codes);

-- Short-notice cover is the one flag the mix filters on (30 % of the
-- generated profiles): a partial GiST index holding only them answers
-- "short notice near here" without visiting the other 70 % of the radius
-- (the planner uses it for the short_notice query).
CREATE INDEX pa_geog_short_notice ON pa USING gist (geog) WHERE short_notice AND active;

-- Statistics for the planner (array element frequencies for GIN
-- selectivity, geography histogram), and the visibility map.
ALTER TABLE pa ALTER COLUMN skills SET STATISTICS 1000;
ALTER TABLE pa ALTER COLUMN languages SET STATISTICS 1000;
ALTER TABLE pa ALTER COLUMN train_codes SET STATISTICS 1000;
VACUUM (ANALYZE) pa;
ANALYZE taxo_code;
ANALYZE taxo_la;
