-- duo schema, version 4: the uncached search inside 100 ms at 100 000 people (matching.md §9).
--
-- * search_candidate also carries every column the hard filters of §9.4 read from the
--   prospect — the one-way attributes, date of birth, height, the privacy/verification
--   flags, roles — and copies of the prospect's own gender, distance and age preferences
--   (pref_*). Stage 3 then reads one narrow row per shortlisted prospect instead of the
--   wide person row plus three preference tables.
-- * search_place counts the candidates standing at each point per gender. People stand at
--   city points, so there are few places: the search sums their counts nearest first to
--   find the ring that holds the nearest 30 000 (the pool cap), and never reads the
--   candidates beyond it.
-- Both are kept by triggers; search_candidates_rebuild() recomputes them from scratch for
-- bulk loads that run with triggers off (session_replication_role = replica).

ALTER TABLE search_candidate
    ADD COLUMN date_of_birth DATE NOT NULL DEFAULT '1900-01-01',
    ADD COLUMN height_cm SMALLINT,
    ADD COLUMN verification_level_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN verification_required BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN hide_me_from_strangers BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN roles TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN orientation_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN ethnicity_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN has_profile_picture_id SMALLINT NOT NULL DEFAULT 2,
    ADD COLUMN looking_for_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN smoking_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN drinking_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN drugs_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN long_distance_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN relationship_status_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN has_kids_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN wants_kids_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN exercise_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN religion_id SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN star_sign_id SMALLINT NOT NULL DEFAULT 1,
    -- the prospect's preferences: wanted genders; furthest distance (NULL: no limit);
    -- age bounds with NULL bounds (and a missing row: no age filter) as 0 / 999
    ADD COLUMN pref_gender_ids SMALLINT[] NOT NULL DEFAULT '{}',
    ADD COLUMN pref_distance_km SMALLINT,
    ADD COLUMN pref_min_age INT NOT NULL DEFAULT 0,
    ADD COLUMN pref_max_age INT NOT NULL DEFAULT 999;

-- The pool reads a place's candidates from this index alone (index-only scan): their
-- entries lie together, whereas their heap rows are scattered over the table. A low
-- vacuum threshold keeps the visibility map fresh so that the heap is rarely visited.
CREATE INDEX idx__search_candidate__place ON search_candidate (latitude, longitude, gender_id)
    INCLUDE (person_id, verified, personality, date_of_birth, height_cm, verification_level_id,
             verification_required, hide_me_from_strangers, roles, orientation_id, ethnicity_id,
             has_profile_picture_id, looking_for_id, smoking_id, drinking_id, drugs_id,
             long_distance_id, relationship_status_id, has_kids_id, wants_kids_id, exercise_id,
             religion_id, star_sign_id, pref_gender_ids, pref_distance_km, pref_min_age, pref_max_age);
ALTER TABLE search_candidate SET (autovacuum_vacuum_scale_factor = 0.01,
                                  autovacuum_vacuum_insert_scale_factor = 0.01);

-- (Re)write the candidate rows of these people from person and their preferences; people
-- who are gone or not activated lose theirs.
CREATE FUNCTION search_candidate_sync(ids INT[]) RETURNS VOID
LANGUAGE sql AS $$
    DELETE FROM search_candidate c
    USING unnest(ids) AS i(id)
    WHERE c.person_id = i.id
      AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = c.person_id AND p.activated);
    INSERT INTO search_candidate AS c (
        person_id, gender_id, verified, latitude, longitude, personality,
        date_of_birth, height_cm, verification_level_id, verification_required,
        hide_me_from_strangers, roles, orientation_id, ethnicity_id, has_profile_picture_id,
        looking_for_id, smoking_id, drinking_id, drugs_id, long_distance_id,
        relationship_status_id, has_kids_id, wants_kids_id, exercise_id, religion_id,
        star_sign_id, pref_gender_ids, pref_distance_km, pref_min_age, pref_max_age)
    SELECT p.id, p.gender_id, p.verification_level_id > 1, p.latitude, p.longitude, p.personality,
           p.date_of_birth, p.height_cm, p.verification_level_id, p.verification_required,
           p.hide_me_from_strangers, p.roles, p.orientation_id, p.ethnicity_id, p.has_profile_picture_id,
           p.looking_for_id, p.smoking_id, p.drinking_id, p.drugs_id, p.long_distance_id,
           p.relationship_status_id, p.has_kids_id, p.wants_kids_id, p.exercise_id, p.religion_id,
           p.star_sign_id,
           ARRAY(SELECT g.gender_id FROM search_preference_gender g WHERE g.person_id = p.id ORDER BY 1),
           (SELECT d.distance FROM search_preference_distance d WHERE d.person_id = p.id),
           COALESCE((SELECT COALESCE(a.min_age, 0) FROM search_preference_age a WHERE a.person_id = p.id), 0),
           COALESCE((SELECT COALESCE(a.max_age, 999) FROM search_preference_age a WHERE a.person_id = p.id), 999)
    FROM (SELECT DISTINCT id FROM unnest(ids) AS i(id)) i
    JOIN person p ON p.id = i.id
    WHERE p.activated
    ON CONFLICT (person_id) DO UPDATE SET
        gender_id = EXCLUDED.gender_id, verified = EXCLUDED.verified,
        latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
        personality = EXCLUDED.personality, date_of_birth = EXCLUDED.date_of_birth,
        height_cm = EXCLUDED.height_cm, verification_level_id = EXCLUDED.verification_level_id,
        verification_required = EXCLUDED.verification_required,
        hide_me_from_strangers = EXCLUDED.hide_me_from_strangers, roles = EXCLUDED.roles,
        orientation_id = EXCLUDED.orientation_id, ethnicity_id = EXCLUDED.ethnicity_id,
        has_profile_picture_id = EXCLUDED.has_profile_picture_id,
        looking_for_id = EXCLUDED.looking_for_id, smoking_id = EXCLUDED.smoking_id,
        drinking_id = EXCLUDED.drinking_id, drugs_id = EXCLUDED.drugs_id,
        long_distance_id = EXCLUDED.long_distance_id,
        relationship_status_id = EXCLUDED.relationship_status_id,
        has_kids_id = EXCLUDED.has_kids_id, wants_kids_id = EXCLUDED.wants_kids_id,
        exercise_id = EXCLUDED.exercise_id, religion_id = EXCLUDED.religion_id,
        star_sign_id = EXCLUDED.star_sign_id, pref_gender_ids = EXCLUDED.pref_gender_ids,
        pref_distance_km = EXCLUDED.pref_distance_km, pref_min_age = EXCLUDED.pref_min_age,
        pref_max_age = EXCLUDED.pref_max_age;
$$;

CREATE OR REPLACE FUNCTION trigger_fn_sync_search_candidate() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_candidate_sync(ARRAY[NEW.id]);
    RETURN NULL;
END;
$$;

DROP TRIGGER trigger_sync_search_candidate_update ON person;
CREATE TRIGGER trigger_sync_search_candidate_update
AFTER UPDATE ON person
FOR EACH ROW WHEN (
    OLD.activated IS DISTINCT FROM NEW.activated
    OR OLD.gender_id IS DISTINCT FROM NEW.gender_id
    OR OLD.verification_level_id IS DISTINCT FROM NEW.verification_level_id
    OR OLD.latitude IS DISTINCT FROM NEW.latitude
    OR OLD.longitude IS DISTINCT FROM NEW.longitude
    OR OLD.personality IS DISTINCT FROM NEW.personality
    OR OLD.date_of_birth IS DISTINCT FROM NEW.date_of_birth
    OR OLD.height_cm IS DISTINCT FROM NEW.height_cm
    OR OLD.verification_required IS DISTINCT FROM NEW.verification_required
    OR OLD.hide_me_from_strangers IS DISTINCT FROM NEW.hide_me_from_strangers
    OR OLD.roles IS DISTINCT FROM NEW.roles
    OR OLD.orientation_id IS DISTINCT FROM NEW.orientation_id
    OR OLD.ethnicity_id IS DISTINCT FROM NEW.ethnicity_id
    OR OLD.has_profile_picture_id IS DISTINCT FROM NEW.has_profile_picture_id
    OR OLD.looking_for_id IS DISTINCT FROM NEW.looking_for_id
    OR OLD.smoking_id IS DISTINCT FROM NEW.smoking_id
    OR OLD.drinking_id IS DISTINCT FROM NEW.drinking_id
    OR OLD.drugs_id IS DISTINCT FROM NEW.drugs_id
    OR OLD.long_distance_id IS DISTINCT FROM NEW.long_distance_id
    OR OLD.relationship_status_id IS DISTINCT FROM NEW.relationship_status_id
    OR OLD.has_kids_id IS DISTINCT FROM NEW.has_kids_id
    OR OLD.wants_kids_id IS DISTINCT FROM NEW.wants_kids_id
    OR OLD.exercise_id IS DISTINCT FROM NEW.exercise_id
    OR OLD.religion_id IS DISTINCT FROM NEW.religion_id
    OR OLD.star_sign_id IS DISTINCT FROM NEW.star_sign_id
)
EXECUTE FUNCTION trigger_fn_sync_search_candidate();

-- A change to someone's gender, distance or age preference rewrites their candidate row.
-- Statement level: replacing a preference (DELETE + INSERT) costs two rewrites, not one per row.
CREATE FUNCTION trigger_fn_sync_search_candidate_preferences() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_candidate_sync(ARRAY(SELECT DISTINCT person_id FROM changed));
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['search_preference_gender', 'search_preference_distance', 'search_preference_age'] LOOP
        EXECUTE format('CREATE TRIGGER trigger_sync_search_candidate_insert AFTER INSERT ON %I
                        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
                        EXECUTE FUNCTION trigger_fn_sync_search_candidate_preferences()', t);
        EXECUTE format('CREATE TRIGGER trigger_sync_search_candidate_update AFTER UPDATE ON %I
                        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
                        EXECUTE FUNCTION trigger_fn_sync_search_candidate_preferences()', t);
        EXECUTE format('CREATE TRIGGER trigger_sync_search_candidate_delete AFTER DELETE ON %I
                        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
                        EXECUTE FUNCTION trigger_fn_sync_search_candidate_preferences()', t);
    END LOOP;
END;
$$;

CREATE TABLE search_place (
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    gender_id SMALLINT NOT NULL,
    sphere_point VECTOR(3) GENERATED ALWAYS AS (unit_sphere(latitude, longitude)) STORED,
    candidates INT NOT NULL,
    PRIMARY KEY (latitude, longitude, gender_id)
);

CREATE FUNCTION search_place_add(lat DOUBLE PRECISION, lon DOUBLE PRECISION, gender SMALLINT, delta INT)
RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO search_place AS s (latitude, longitude, gender_id, candidates)
    VALUES (lat, lon, gender, delta)
    ON CONFLICT (latitude, longitude, gender_id) DO UPDATE SET candidates = s.candidates + delta;
$$;

CREATE FUNCTION trigger_fn_count_search_place() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM search_place_add(OLD.latitude, OLD.longitude, OLD.gender_id, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM search_place_add(NEW.latitude, NEW.longitude, NEW.gender_id, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_count_search_place_insert_delete
AFTER INSERT OR DELETE ON search_candidate
FOR EACH ROW EXECUTE FUNCTION trigger_fn_count_search_place();

CREATE TRIGGER trigger_count_search_place_update
AFTER UPDATE ON search_candidate
FOR EACH ROW WHEN (
    OLD.latitude IS DISTINCT FROM NEW.latitude
    OR OLD.longitude IS DISTINCT FROM NEW.longitude
    OR OLD.gender_id IS DISTINCT FROM NEW.gender_id
)
EXECUTE FUNCTION trigger_fn_count_search_place();

-- Everything from scratch: after bulk loads that ran with triggers off.
CREATE FUNCTION search_candidates_rebuild() RETURNS VOID
LANGUAGE sql AS $$
    SELECT search_candidate_sync(ARRAY(SELECT id FROM person UNION SELECT person_id FROM search_candidate));
    DELETE FROM search_place;
    INSERT INTO search_place (latitude, longitude, gender_id, candidates)
    SELECT latitude, longitude, gender_id, count(*) FROM search_candidate GROUP BY 1, 2, 3;
$$;

SELECT search_candidates_rebuild();

-- the same index as the primary key: one index write fewer per cached row
DROP INDEX idx__search_cache__searcher_person_id__position;

-- geo_chord as 0003 defined it, but no longer STRICT: PostgreSQL never inlines a STRICT SQL
-- function whose body is not strict itself (LEAST/GREATEST), so every geo_within() of the
-- ranking paid two SQL-function calls (~5 µs each) per row. Inlined, it is plain arithmetic.
-- (A NULL distance now gives 0 instead of NULL; geo_within() is never called with one.)
CREATE OR REPLACE FUNCTION geo_chord(distance_m DOUBLE PRECISION) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT AS $$
    SELECT 2.0 * sin(LEAST(pi() / 2.0, GREATEST(0.0, distance_m) / (2.0 * 6371008.8)))
$$;
