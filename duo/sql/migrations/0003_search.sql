-- duo schema, version 3: what makes the uncached search fast (matching.md §9, README
-- decisions "the distance filter and ordering run fast without PostGIS", "the pre-filter cap
-- keeps the nearest candidates").
--
-- * search_candidate: one narrow row per ACTIVATED person with exactly what stages 1–2 of
--   the ranking read (gender, verified flag, position, personality), kept by triggers on
--   person. Scanning it instead of the wide person row (score arrays, about, …) is what
--   keeps an unlimited-distance search over 100 000 people inside its time budget.
-- * unit_sphere(lat, lon): the point as a unit vector; the pgvector L2 distance `<->` of two
--   of them is the chord, which orders by great-circle distance at C speed. geo_within()
--   turns a chord into an exact "within R metres" test: chords clearly inside or outside
--   (1 % margin — the sphere and the WGS-84 ellipsoid differ by < 0.6 %) decide at once,
--   and only the thin band between them pays for the exact geo_distance_m().

CREATE FUNCTION unit_sphere(lat DOUBLE PRECISION, lon DOUBLE PRECISION) RETURNS VECTOR(3)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY[
        cos(radians(lat)) * cos(radians(lon)),
        cos(radians(lat)) * sin(radians(lon)),
        sin(radians(lat))
    ]::VECTOR(3)
$$;

-- Chord length on the unit sphere of a great-circle distance (capped at the antipode).
CREATE FUNCTION geo_chord(distance_m DOUBLE PRECISION) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 2.0 * sin(LEAST(pi() / 2.0, GREATEST(0.0, distance_m) / (2.0 * 6371008.8)))
$$;

-- Exact "geodesic distance <= radius_m", given the chord of the two points' unit vectors.
CREATE FUNCTION geo_within(
    chord DOUBLE PRECISION,
    lat1 DOUBLE PRECISION, lon1 DOUBLE PRECISION,
    lat2 DOUBLE PRECISION, lon2 DOUBLE PRECISION,
    radius_m DOUBLE PRECISION
) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT chord < geo_chord(radius_m * 0.99) - 1e-6
        OR (chord <= geo_chord(radius_m * 1.01) + 1e-6
            AND geo_distance_m(lat1, lon1, lat2, lon2) <= radius_m)
$$;

CREATE TABLE search_candidate (
    person_id INT PRIMARY KEY REFERENCES person(id) ON DELETE CASCADE,
    gender_id SMALLINT NOT NULL,
    verified BOOLEAN NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    sphere_point VECTOR(3) GENERATED ALWAYS AS (unit_sphere(latitude, longitude)) STORED,
    personality VECTOR(47) NOT NULL
);

CREATE INDEX idx__search_candidate__coordinates ON search_candidate USING gist (coordinates);
CREATE INDEX idx__search_candidate__gender_id ON search_candidate (gender_id);

CREATE FUNCTION trigger_fn_sync_search_candidate() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.activated THEN
        INSERT INTO search_candidate (person_id, gender_id, verified, latitude, longitude, personality)
        VALUES (NEW.id, NEW.gender_id, NEW.verification_level_id > 1, NEW.latitude, NEW.longitude,
                NEW.personality)
        ON CONFLICT (person_id) DO UPDATE SET
            gender_id = EXCLUDED.gender_id,
            verified = EXCLUDED.verified,
            latitude = EXCLUDED.latitude,
            longitude = EXCLUDED.longitude,
            personality = EXCLUDED.personality;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM search_candidate WHERE person_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_sync_search_candidate_insert
AFTER INSERT ON person
FOR EACH ROW WHEN (NEW.activated)
EXECUTE FUNCTION trigger_fn_sync_search_candidate();

CREATE TRIGGER trigger_sync_search_candidate_update
AFTER UPDATE ON person
FOR EACH ROW WHEN (
    OLD.activated IS DISTINCT FROM NEW.activated
    OR OLD.gender_id IS DISTINCT FROM NEW.gender_id
    OR OLD.verification_level_id IS DISTINCT FROM NEW.verification_level_id
    OR OLD.latitude IS DISTINCT FROM NEW.latitude
    OR OLD.longitude IS DISTINCT FROM NEW.longitude
    OR OLD.personality IS DISTINCT FROM NEW.personality
)
EXECUTE FUNCTION trigger_fn_sync_search_candidate();

INSERT INTO search_candidate (person_id, gender_id, verified, latitude, longitude, personality)
SELECT id, gender_id, verification_level_id > 1, latitude, longitude, personality
FROM person
WHERE activated;
