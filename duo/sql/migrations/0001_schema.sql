-- duo schema, version 1: the whole data model of spec/data-model.md, with the matching
-- functions (matching.md §6, §8) and the search candidate tables (matching.md §9).
-- (Versions 2–4 were folded into this file before the first release.)
--
-- Rewritten for PostgreSQL >= 15 with pgvector as the only extension:
--   * no PostGIS: every GEOGRAPHY(Point, 4326) column `coordinates` becomes
--       latitude  DOUBLE PRECISION   (degrees, WGS-84)
--       longitude DOUBLE PRECISION   (degrees, WGS-84)
--       coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED
--     The derived core `point` (x = longitude, y = latitude) carries a core GiST index
--     (point_ops) so that a bounding-box containment test `coordinates <@ geo_bbox(...)`
--     is an index scan. Exact distances come from geo_distance_m() (WGS-84 ellipsoid,
--     Lambert's formula, ~10 m error). "Within R metres of (lat, lon), nearest first":
--
--       WHERE t.coordinates <@ geo_bbox(lat, lon, R)                         -- index
--         AND geo_distance_m(t.latitude, t.longitude, lat, lon) <= R        -- exact
--       ORDER BY geo_distance_m(t.latitude, t.longitude, lat, lon)
--
--     geo_bbox() never excludes a point that is within R (it is deliberately loose), so the
--     pair is exact. Nearest location to a point: nearest_location_id(lat, lon).
--   * no pg_trgm: the trigram GiST indexes are replaced by prefix indexes; fuzzy ranking is
--     done in-process (rapidfuzz).
--   * no btree_gist: multicolumn GiST (coordinates, gender_id) indexes become partial GiST
--     indexes on coordinates plus b-tree indexes for the scalar columns.
--   * no plpython3u: compute_personality_vectors is PL/pgSQL.
--   * no uuid-ossp: gen_random_uuid() (core since PostgreSQL 13).
--   * TIMESTAMP columns are TIMESTAMPTZ (UTC); person.uuid is UNIQUE.

CREATE EXTENSION IF NOT EXISTS vector;

-- ---------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------

CREATE TYPE person_event AS ENUM (
    'added-photo',
    'added-voice-bio',
    'joined',
    'updated-bio',
    'was-recently-online',
    'recently-online-with-photo',
    'recently-online-with-voice-bio',
    'recently-online-with-bio'
);

CREATE TYPE verification_job_status AS ENUM (
    'uploading-photo',
    'queued',
    'running',
    'success',
    'failure'
);

CREATE TYPE mam_direction AS ENUM ('I', 'O');

CREATE TYPE answer_score_vectors AS (
    presence_score INT[],
    absence_score INT[]
);

CREATE TYPE personality_vectors AS (
    personality FLOAT4[],
    presence_score INT[],
    absence_score INT[],
    count_answers SMALLINT
);

-- ---------------------------------------------------------------------------
-- Functions (those that tables depend on)
-- ---------------------------------------------------------------------------

CREATE FUNCTION array_full(dimensions INT, fill_value FLOAT4) RETURNS FLOAT4[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_fill(fill_value, ARRAY[dimensions])
$$;

CREATE FUNCTION array_full(dimensions INT, fill_value INT) RETURNS INT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_fill(fill_value, ARRAY[dimensions])
$$;

CREATE FUNCTION clamp(lo FLOAT, hi FLOAT, val FLOAT) RETURNS FLOAT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT LEAST(hi, GREATEST(lo, val))
$$;

-- The match percentage of two personalities, for every query that shows or ranks matches
-- (search, profiles, feed, visitors, inbox info). Plain SQL functions, so the planner inlines
-- them. duo.matching.match computes the same in Python.
CREATE FUNCTION match_score(a VECTOR, b VECTOR) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT clamp(0, 99, 50 - 50 * (a <#> b))
$$;

CREATE FUNCTION match_percentage(a VECTOR, b VECTOR) RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(clamp(0, 99, 50 - 50 * (a <#> b)))::SMALLINT
$$;

CREATE FUNCTION base62_encode(num BIGINT) RETURNS TEXT
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    alphabet CONSTANT TEXT := '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    n BIGINT := num;
    result TEXT := '';
BEGIN
    IF n = 0 THEN
        RETURN '0';
    END IF;
    IF n < 0 THEN
        RAISE EXCEPTION 'base62_encode: negative number %', num;
    END IF;
    WHILE n > 0 LOOP
        result := substr(alphabet, (n % 62)::INT + 1, 1) || result;
        n := n / 62;
    END LOOP;
    RETURN result;
END;
$$;

CREATE FUNCTION uuid_or_null(str TEXT) RETURNS UUID
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN str::UUID;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END;
$$;

CREATE FUNCTION iso8601_utc(ts TIMESTAMPTZ) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION age_gap_acceptability_odds(a DOUBLE PRECISION, b DOUBLE PRECISION)
RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT exp(-8.0 * power(1.0 - (LEAST(a, b) - 13.0) / (GREATEST(a, b) - 13.0), 2))
$$;

-- Geodesic distance in metres between two WGS-84 points (degrees), by Lambert's formula for
-- long lines on the ellipsoid (error of the order of 10 m over thousands of km; exact 0 for
-- identical points). Replaces PostGIS ST_Distance(geography, geography).
CREATE FUNCTION geo_distance_m(
    lat1 DOUBLE PRECISION, lon1 DOUBLE PRECISION,
    lat2 DOUBLE PRECISION, lon2 DOUBLE PRECISION
) RETURNS DOUBLE PRECISION
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    a CONSTANT DOUBLE PRECISION := 6378137.0;
    f CONSTANT DOUBLE PRECISION := 1.0 / 298.257223563;
    b1 DOUBLE PRECISION;
    b2 DOUBLE PRECISION;
    h DOUBLE PRECISION;
    sigma DOUBLE PRECISION;
    p DOUBLE PRECISION;
    q DOUBLE PRECISION;
    c2 DOUBLE PRECISION;
    x DOUBLE PRECISION := 0.0;
    y DOUBLE PRECISION := 0.0;
BEGIN
    IF lat1 = lat2 AND lon1 = lon2 THEN
        RETURN 0.0;
    END IF;
    -- reduced (parametric) latitudes
    b1 := atan((1.0 - f) * tan(radians(lat1)));
    b2 := atan((1.0 - f) * tan(radians(lat2)));
    -- central angle between them on the auxiliary sphere (haversine: stable for short lines)
    h := sin((b2 - b1) / 2.0) ^ 2 + cos(b1) * cos(b2) * sin(radians(lon2 - lon1) / 2.0) ^ 2;
    sigma := 2.0 * asin(LEAST(1.0, sqrt(h)));
    IF sigma = 0.0 THEN
        RETURN 0.0;
    END IF;
    p := (b1 + b2) / 2.0;
    q := (b2 - b1) / 2.0;
    c2 := cos(sigma / 2.0) ^ 2;
    IF c2 > 1e-12 THEN
        x := (sigma - sin(sigma)) * sin(p) ^ 2 * cos(q) ^ 2 / c2;
    END IF;
    y := (sigma + sin(sigma)) * cos(p) ^ 2 * sin(q) ^ 2 / (sin(sigma / 2.0) ^ 2);
    RETURN a * (sigma - f / 2.0 * (x + y));
END;
$$;

-- A latitude/longitude box (as a core `box` of points (longitude, latitude)) that contains
-- every point within radius_m metres of (lat, lon). Deliberately loose (it uses a radius of
-- 6300 km, smaller than any radius of curvature of the WGS-84 ellipsoid, so the box is
-- larger than needed). When the circle reaches a pole or crosses the antimeridian the box
-- spans all longitudes (still correct, just less selective).
CREATE FUNCTION geo_bbox(lat DOUBLE PRECISION, lon DOUBLE PRECISION, radius_m DOUBLE PRECISION)
RETURNS box
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    r CONSTANT DOUBLE PRECISION := 6300000.0;
    dlat DOUBLE PRECISION := degrees(GREATEST(radius_m, 0.0) / r);
    dlon DOUBLE PRECISION;
BEGIN
    IF abs(lat) + dlat >= 90.0 THEN
        RETURN box(point(-180.0, GREATEST(-90.0, lat - dlat)), point(180.0, LEAST(90.0, lat + dlat)));
    END IF;
    dlon := degrees(GREATEST(radius_m, 0.0) / (r * cos(radians(abs(lat) + dlat))));
    IF dlon >= 180.0 OR lon - dlon < -180.0 OR lon + dlon > 180.0 THEN
        RETURN box(point(-180.0, lat - dlat), point(180.0, lat + dlat));
    END IF;
    RETURN box(point(lon - dlon, lat - dlat), point(lon + dlon, lat + dlat));
END;
$$;

-- The point as a unit vector; the pgvector L2 distance `<->` of two of them is the chord,
-- which orders by great-circle distance at C speed. geo_within() turns a chord into an exact
-- "within R metres" test: chords clearly inside or outside (1 % margin — the sphere and the
-- WGS-84 ellipsoid differ by < 0.6 %) decide at once, and only the thin band between them
-- pays for the exact geo_distance_m().
CREATE FUNCTION unit_sphere(lat DOUBLE PRECISION, lon DOUBLE PRECISION) RETURNS VECTOR(3)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY[
        cos(radians(lat)) * cos(radians(lon)),
        cos(radians(lat)) * sin(radians(lon)),
        sin(radians(lat))
    ]::VECTOR(3)
$$;

-- Chord length on the unit sphere of a great-circle distance (capped at the antipode).
-- Not STRICT: PostgreSQL never inlines a STRICT SQL function whose body is not strict
-- itself (LEAST/GREATEST); inlined, every geo_within() of the ranking is plain arithmetic.
CREATE FUNCTION geo_chord(distance_m DOUBLE PRECISION) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT AS $$
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

-- ---------------------------------------------------------------------------
-- Lookup tables (data-model.md section 6; ids 1, 2, 3, ... in the listed order)
-- ---------------------------------------------------------------------------

CREATE TABLE verification_level (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE gender (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE orientation (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE ethnicity (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE looking_for (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE relationship_status (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE religion (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE star_sign (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE unit (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE immediacy (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE frequency (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE yes_no (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE yes_no_optional (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));
CREATE TABLE yes_no_maybe (id SMALLSERIAL PRIMARY KEY, name TEXT NOT NULL, UNIQUE (name));

-- Multi-row VALUES insert in order, so the serial ids follow the listed order.
INSERT INTO verification_level (name) VALUES
    ('No verification'), ('Basics only'), ('Photos');
INSERT INTO gender (name) VALUES
    ('Man'), ('Woman'), ('Agender'), ('Femboy'), ('Intersex'), ('Non-binary'),
    ('Transgender'), ('Trans woman'), ('Trans man'), ('Other');
INSERT INTO orientation (name) VALUES
    ('Unanswered'), ('Straight'), ('Gay'), ('Lesbian'), ('Bisexual'), ('Asexual'),
    ('Demisexual'), ('Pansexual'), ('Queer'), ('Other');
INSERT INTO ethnicity (name) VALUES
    ('Unanswered'), ('Black/African Descent'), ('East Asian'), ('Hispanic/Latino'),
    ('Middle Eastern'), ('Native American'), ('Pacific Islander'), ('South Asian'),
    ('Southeast Asian'), ('White/Caucasian'), ('Other');
INSERT INTO looking_for (name) VALUES
    ('Unanswered'), ('Friends'), ('Short-term dating'), ('Long-term dating'), ('Marriage');
INSERT INTO relationship_status (name) VALUES
    ('Unanswered'), ('Single'), ('Seeing someone'), ('Engaged'), ('Married'), ('Divorced'),
    ('Widowed'), ('Other');
INSERT INTO religion (name) VALUES
    ('Unanswered'), ('Agnostic'), ('Atheist'), ('Buddhist'), ('Christian'), ('Hindu'),
    ('Jewish'), ('Muslim'), ('Zoroastrian'), ('Other');
INSERT INTO star_sign (name) VALUES
    ('Unanswered'), ('Aquarius'), ('Aries'), ('Cancer'), ('Capricorn'), ('Gemini'), ('Leo'),
    ('Libra'), ('Pisces'), ('Sagittarius'), ('Scorpio'), ('Taurus'), ('Virgo');
INSERT INTO unit (name) VALUES
    ('Imperial'), ('Metric');
INSERT INTO immediacy (name) VALUES
    ('Immediately'), ('Daily'), ('Every 3 days'), ('Weekly'), ('Never');
INSERT INTO frequency (name) VALUES
    ('Unanswered'), ('Often'), ('Sometimes'), ('Never');
INSERT INTO yes_no (name) VALUES
    ('Yes'), ('No');
INSERT INTO yes_no_optional (name) VALUES
    ('Unanswered'), ('Yes'), ('No');
INSERT INTO yes_no_maybe (name) VALUES
    ('Unanswered'), ('Yes'), ('No'), ('Maybe');

-- ---------------------------------------------------------------------------
-- 7.3 Questions and traits (before person: answer_score_vectors reads question)
-- ---------------------------------------------------------------------------

CREATE TABLE question (
    id SMALLSERIAL PRIMARY KEY,
    question TEXT NOT NULL,
    topic TEXT NOT NULL,
    -- 46 per-mille values each, indexed by trait id; empty = not scored yet
    presence_given_yes INT[] NOT NULL,
    presence_given_no INT[] NOT NULL,
    absence_given_yes INT[] NOT NULL,
    absence_given_no INT[] NOT NULL,
    count_yes BIGINT NOT NULL DEFAULT 0,
    count_no BIGINT NOT NULL DEFAULT 0,
    UNIQUE (question)
);

CREATE TABLE trait (
    id SMALLSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    min_label TEXT,
    max_label TEXT
);

CREATE TABLE trait_topic (
    trait_id SMALLINT NOT NULL REFERENCES trait(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (trait_id, name)
);

-- ---------------------------------------------------------------------------
-- 7.10 Reference lists
-- ---------------------------------------------------------------------------

CREATE TABLE location (
    id SERIAL PRIMARY KEY,
    short_friendly TEXT NOT NULL UNIQUE,
    long_friendly TEXT NOT NULL UNIQUE,
    city TEXT NOT NULL,
    subdivision TEXT NOT NULL,
    country TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    verification_required BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE good_email_domain (domain TEXT PRIMARY KEY);
CREATE TABLE bad_email_domain (domain TEXT PRIMARY KEY);

-- Which version of each derived reference list is loaded (duo addition: lets start-up skip
-- rebuilding the location list when nothing changed).
CREATE TABLE duo_seed_state (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- ---------------------------------------------------------------------------
-- 7.1 Accounts and sessions
-- ---------------------------------------------------------------------------

CREATE TABLE person (
    id SERIAL PRIMARY KEY,
    id_salt INT DEFAULT floor(random() * 1000000)::INT,
    tiny_id TEXT GENERATED ALWAYS AS (base62_encode(id::BIGINT * 1000000 + id_salt)) STORED,
    uuid UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    email TEXT NOT NULL,
    normalized_email TEXT NOT NULL,
    name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    latitude DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    gender_id SMALLINT NOT NULL REFERENCES gender(id),
    about TEXT NOT NULL,
    personality VECTOR(47) NOT NULL DEFAULT array_full(47, 0::FLOAT4)::VECTOR(47),
    presence_score INT[] NOT NULL DEFAULT array_full(46, 0),
    absence_score INT[] NOT NULL DEFAULT array_full(46, 0),
    count_answers SMALLINT NOT NULL DEFAULT 0,
    has_profile_picture_id SMALLINT NOT NULL DEFAULT 2 REFERENCES yes_no(id),
    verification_level_id SMALLINT NOT NULL DEFAULT 1 REFERENCES verification_level(id),
    verified_age BOOLEAN NOT NULL DEFAULT FALSE,
    verified_gender BOOLEAN NOT NULL DEFAULT FALSE,
    verified_ethnicity BOOLEAN NOT NULL DEFAULT FALSE,
    verification_required BOOLEAN NOT NULL DEFAULT FALSE,
    orientation_id SMALLINT NOT NULL DEFAULT 1 REFERENCES orientation(id),
    ethnicity_id SMALLINT NOT NULL DEFAULT 1 REFERENCES ethnicity(id),
    occupation TEXT,
    education TEXT,
    height_cm SMALLINT,
    looking_for_id SMALLINT NOT NULL DEFAULT 1 REFERENCES looking_for(id),
    smoking_id SMALLINT NOT NULL DEFAULT 1 REFERENCES yes_no_optional(id),
    drinking_id SMALLINT NOT NULL DEFAULT 1 REFERENCES frequency(id),
    drugs_id SMALLINT NOT NULL DEFAULT 1 REFERENCES yes_no_optional(id),
    long_distance_id SMALLINT NOT NULL DEFAULT 1 REFERENCES yes_no_optional(id),
    relationship_status_id SMALLINT NOT NULL DEFAULT 1 REFERENCES relationship_status(id),
    has_kids_id SMALLINT NOT NULL DEFAULT 1 REFERENCES yes_no_optional(id),
    wants_kids_id SMALLINT NOT NULL DEFAULT 1 REFERENCES yes_no_maybe(id),
    exercise_id SMALLINT NOT NULL DEFAULT 1 REFERENCES frequency(id),
    religion_id SMALLINT NOT NULL DEFAULT 1 REFERENCES religion(id),
    star_sign_id SMALLINT NOT NULL DEFAULT 1 REFERENCES star_sign(id),
    title_color TEXT NOT NULL DEFAULT '#000000',
    body_color TEXT NOT NULL DEFAULT '#000000',
    background_color TEXT NOT NULL DEFAULT '#ffffff',
    unit_id SMALLINT NOT NULL REFERENCES unit(id),
    chats_notification SMALLINT NOT NULL DEFAULT 1 REFERENCES immediacy(id),
    intros_notification SMALLINT NOT NULL DEFAULT 2 REFERENCES immediacy(id),
    show_my_location BOOLEAN NOT NULL DEFAULT TRUE,
    show_my_age BOOLEAN NOT NULL DEFAULT TRUE,
    hide_me_from_strangers BOOLEAN NOT NULL DEFAULT FALSE,
    privacy_verification_level_id SMALLINT NOT NULL DEFAULT 1 REFERENCES verification_level(id),
    sign_up_time TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    sign_in_count INT NOT NULL DEFAULT 1,
    sign_in_time TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_nag_time TIMESTAMPTZ DEFAULT to_timestamp(0),
    last_online_time TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_visitor_check_time TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    activated BOOLEAN NOT NULL DEFAULT TRUE,
    last_event_time TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_event_name person_event NOT NULL DEFAULT 'joined',
    last_event_data JSONB NOT NULL DEFAULT '{}',
    flair TEXT[] NOT NULL DEFAULT '{}',
    roles TEXT[] NOT NULL DEFAULT '{}',
    has_gold BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (email)
);

CREATE TABLE unmoderated_person (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    trait TEXT NOT NULL,
    PRIMARY KEY (person_id, trait)
);

CREATE TABLE onboardee (
    email TEXT NOT NULL PRIMARY KEY,
    name TEXT,
    date_of_birth DATE,
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    gender_id SMALLINT REFERENCES gender(id),
    about TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE onboardee_search_preference_gender (
    email TEXT NOT NULL REFERENCES onboardee(email) ON DELETE CASCADE,
    gender_id SMALLINT NOT NULL REFERENCES gender(id) ON DELETE CASCADE,
    PRIMARY KEY (email, gender_id)
);

CREATE TABLE onboardee_photo (
    email TEXT NOT NULL REFERENCES onboardee(email) ON DELETE CASCADE,
    position SMALLINT NOT NULL,
    uuid TEXT NOT NULL,
    blurhash TEXT NOT NULL,
    extra_exts TEXT[] NOT NULL DEFAULT '{}',
    hash TEXT NOT NULL,
    PRIMARY KEY (email, position)
);

CREATE TABLE duo_session (
    session_token_hash TEXT NOT NULL PRIMARY KEY,
    person_id INT REFERENCES person(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    pending_club_name TEXT,
    otp TEXT NOT NULL,
    ip_address INET,
    signed_in BOOLEAN NOT NULL DEFAULT FALSE,
    session_expiry TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '6 months'),
    otp_expiry TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '10 minutes')
);

CREATE TABLE banned_person (
    normalized_email TEXT NOT NULL,
    ip_address INET NOT NULL DEFAULT '127.0.0.1',
    banned_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '1 month'),
    report_reasons TEXT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (normalized_email, ip_address)
);

CREATE TABLE banned_person_admin_token (
    token UUID NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    person_id INT REFERENCES person(id) ON DELETE CASCADE,
    generated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '1 month')
);

CREATE TABLE deleted_photo_admin_token (
    token UUID NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    photo_uuid TEXT NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '1 month')
);

CREATE TABLE export_data_token (
    token UUID NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    person_id INT REFERENCES person(id) ON DELETE CASCADE,
    generated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '10 minutes')
);

CREATE TABLE funding (
    id SMALLINT PRIMARY KEY,
    estimated_end_date TIMESTAMPTZ NOT NULL,
    cost_per_month_usd FLOAT NOT NULL,
    token_hash_revenuecat TEXT NOT NULL DEFAULT '',
    CONSTRAINT id CHECK (id = 1)
);

INSERT INTO funding (id, estimated_end_date, cost_per_month_usd, token_hash_revenuecat)
VALUES (1, NOW() + INTERVAL '1 year', 360.0, '');

-- ---------------------------------------------------------------------------
-- 7.2 Media
-- ---------------------------------------------------------------------------

CREATE TABLE photo (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    position SMALLINT NOT NULL,
    uuid TEXT NOT NULL,
    blurhash TEXT NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    nsfw_score FLOAT4,
    extra_exts TEXT[] NOT NULL DEFAULT '{}',
    hash TEXT NOT NULL,
    PRIMARY KEY (person_id, position)
);

CREATE TABLE undeleted_photo (uuid TEXT PRIMARY KEY);

CREATE TABLE banned_photo_hash (hash TEXT NOT NULL PRIMARY KEY);

CREATE TABLE audio (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    position INT NOT NULL,
    uuid TEXT NOT NULL,
    PRIMARY KEY (person_id, position)
);

CREATE TABLE undeleted_audio (uuid TEXT PRIMARY KEY);

-- ---------------------------------------------------------------------------
-- 7.3 Answers
-- ---------------------------------------------------------------------------

CREATE TABLE answer (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    question_id SMALLINT NOT NULL REFERENCES question(id) ON DELETE CASCADE,
    answer BOOLEAN,
    public_ BOOLEAN NOT NULL,
    PRIMARY KEY (person_id, question_id)
);

-- ---------------------------------------------------------------------------
-- 7.4 Verification
-- ---------------------------------------------------------------------------

CREATE TABLE verification_job (
    id SERIAL PRIMARY KEY,
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    status verification_job_status NOT NULL DEFAULT 'uploading-photo',
    message TEXT NOT NULL DEFAULT 'Verifying',
    photo_uuid TEXT NOT NULL,
    raw_json TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ NOT NULL DEFAULT (NOW() + INTERVAL '3 days')
);

CREATE TABLE verification_photo_hash (hash TEXT PRIMARY KEY);

-- ---------------------------------------------------------------------------
-- 7.5 Clubs
-- ---------------------------------------------------------------------------

CREATE TABLE club (
    name TEXT NOT NULL PRIMARY KEY,
    count_members INT NOT NULL DEFAULT 0
);

CREATE TABLE person_club (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    club_name TEXT NOT NULL REFERENCES club(name) ON DELETE CASCADE ON UPDATE CASCADE,
    -- copies of the person's values, kept by triggers (fast in-club search)
    activated BOOLEAN NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    gender_id SMALLINT NOT NULL,
    PRIMARY KEY (person_id, club_name)
);

CREATE TABLE banned_club (
    name TEXT PRIMARY KEY,
    CONSTRAINT name CHECK (name = LOWER(name))
);

-- ---------------------------------------------------------------------------
-- 7.7 Search preferences
-- ---------------------------------------------------------------------------

CREATE TABLE search_preference_answer (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    question_id SMALLINT NOT NULL REFERENCES question(id) ON DELETE CASCADE,
    answer BOOLEAN NOT NULL,
    accept_unanswered BOOLEAN NOT NULL,
    PRIMARY KEY (person_id, question_id)
);

CREATE TABLE search_preference_gender (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    gender_id SMALLINT NOT NULL REFERENCES gender(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, gender_id)
);

CREATE TABLE search_preference_orientation (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    orientation_id SMALLINT NOT NULL REFERENCES orientation(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, orientation_id)
);

CREATE TABLE search_preference_ethnicity (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    ethnicity_id SMALLINT NOT NULL REFERENCES ethnicity(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, ethnicity_id)
);

CREATE TABLE search_preference_age (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    min_age SMALLINT,
    max_age SMALLINT,
    PRIMARY KEY (person_id)
);

CREATE TABLE search_preference_distance (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    distance SMALLINT,
    PRIMARY KEY (person_id)
);

CREATE TABLE search_preference_height_cm (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    min_height_cm SMALLINT,
    max_height_cm SMALLINT,
    PRIMARY KEY (person_id)
);

CREATE TABLE search_preference_has_profile_picture (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    has_profile_picture_id SMALLINT NOT NULL REFERENCES yes_no(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, has_profile_picture_id)
);

CREATE TABLE search_preference_looking_for (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    looking_for_id SMALLINT NOT NULL REFERENCES looking_for(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, looking_for_id)
);

CREATE TABLE search_preference_smoking (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    smoking_id SMALLINT NOT NULL REFERENCES yes_no_optional(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, smoking_id)
);

CREATE TABLE search_preference_drinking (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    drinking_id SMALLINT NOT NULL REFERENCES frequency(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, drinking_id)
);

CREATE TABLE search_preference_drugs (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    drugs_id SMALLINT NOT NULL REFERENCES yes_no_optional(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, drugs_id)
);

CREATE TABLE search_preference_long_distance (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    long_distance_id SMALLINT NOT NULL REFERENCES yes_no_optional(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, long_distance_id)
);

CREATE TABLE search_preference_relationship_status (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    relationship_status_id SMALLINT NOT NULL REFERENCES relationship_status(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, relationship_status_id)
);

CREATE TABLE search_preference_has_kids (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    has_kids_id SMALLINT NOT NULL REFERENCES yes_no_optional(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, has_kids_id)
);

CREATE TABLE search_preference_wants_kids (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    wants_kids_id SMALLINT NOT NULL REFERENCES yes_no_maybe(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, wants_kids_id)
);

CREATE TABLE search_preference_exercise (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    exercise_id SMALLINT NOT NULL REFERENCES frequency(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, exercise_id)
);

CREATE TABLE search_preference_religion (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    religion_id SMALLINT NOT NULL REFERENCES religion(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, religion_id)
);

CREATE TABLE search_preference_star_sign (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    star_sign_id SMALLINT NOT NULL REFERENCES star_sign(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, star_sign_id)
);

CREATE TABLE search_preference_club (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    club_name TEXT NOT NULL REFERENCES club(name) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (person_id)
);

CREATE TABLE search_preference_messaged (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    messaged_id SMALLINT NOT NULL REFERENCES yes_no(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id)
);

CREATE TABLE search_preference_skipped (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE ON UPDATE CASCADE,
    skipped_id SMALLINT NOT NULL REFERENCES yes_no(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (person_id)
);

-- ---------------------------------------------------------------------------
-- 7.8 Interactions
-- ---------------------------------------------------------------------------

CREATE TABLE messaged (
    subject_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    object_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (subject_person_id, object_person_id)
);

CREATE TABLE skipped (
    subject_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    object_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    reported BOOLEAN NOT NULL DEFAULT FALSE,
    report_reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (subject_person_id, object_person_id)
);

CREATE TABLE visited (
    subject_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    object_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (subject_person_id, object_person_id)
);

CREATE UNLOGGED TABLE search_cache (
    searcher_person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    position SMALLINT NOT NULL,
    prospect_person_id INT NOT NULL,
    prospect_uuid UUID NOT NULL,
    profile_photo_uuid TEXT,
    profile_photo_blurhash TEXT,
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    name TEXT NOT NULL,
    age SMALLINT,
    match_percentage SMALLINT NOT NULL,
    personality VECTOR(47) NOT NULL,
    PRIMARY KEY (searcher_person_id, position)
);

-- ---------------------------------------------------------------------------
-- 7.9 Chat storage
-- ---------------------------------------------------------------------------

CREATE TABLE mam_message (
    id BIGINT NOT NULL,
    from_jid VARCHAR(250) NOT NULL,
    remote_bare_jid VARCHAR(250) NOT NULL,
    direction mam_direction NOT NULL,
    message BYTEA NOT NULL,
    search_body TEXT,
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    audio_uuid TEXT,
    PRIMARY KEY (person_id, id)
);

CREATE TABLE inbox (
    luser VARCHAR(250) NOT NULL,
    remote_bare_jid VARCHAR(250) NOT NULL,
    msg_id VARCHAR(250),
    box VARCHAR(64) NOT NULL DEFAULT 'inbox',
    content BYTEA NOT NULL,
    timestamp BIGINT NOT NULL,
    unread_count INT NOT NULL,
    PRIMARY KEY (luser, remote_bare_jid)
);

CREATE TABLE intro_hash (
    hash TEXT PRIMARY KEY,
    last_used_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE duo_last_notification (
    username TEXT PRIMARY KEY,
    intro_seconds INT NOT NULL DEFAULT 0,
    chat_seconds INT NOT NULL DEFAULT 0
);

CREATE TABLE duo_push_token (
    username TEXT PRIMARY KEY,
    token TEXT
);

CREATE TABLE rude_message (
    person_id INT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    message TEXT NOT NULL,
    PRIMARY KEY (person_id, created_at)
);

-- ---------------------------------------------------------------------------
-- Functions that read tables
-- ---------------------------------------------------------------------------

CREATE FUNCTION answer_score_vectors(question_id INT, answer BOOLEAN)
RETURNS answer_score_vectors
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN answer IS TRUE THEN ROW(q.presence_given_yes, q.absence_given_yes)::answer_score_vectors
        WHEN answer IS FALSE THEN ROW(q.presence_given_no, q.absence_given_no)::answer_score_vectors
        ELSE ROW(NULL, NULL)::answer_score_vectors
    END
    FROM (SELECT 1) AS one
    LEFT JOIN question q ON q.id = answer_score_vectors.question_id
$$;

-- Adds the new answer's evidence and removes the old answer's (data-model 7.6, matching 5-6).
-- An answer whose arrays are NULL or empty is treated as absent. The confidence weight is
-- computed in double precision, so the vector is bit-for-bit the one
-- duo.matching.personality computes in Python.
CREATE FUNCTION compute_personality_vectors(
    new_presence_score INT[],
    new_absence_score INT[],
    old_presence_score INT[],
    old_absence_score INT[],
    cur_presence_score INT[],
    cur_absence_score INT[],
    cur_count_answers SMALLINT
) RETURNS personality_vectors
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    n INT := COALESCE(cardinality(cur_presence_score), 0);
    has_new BOOLEAN := COALESCE(cardinality(new_presence_score), 0) > 0
                       AND COALESCE(cardinality(new_absence_score), 0) > 0;
    has_old BOOLEAN := COALESCE(cardinality(old_presence_score), 0) > 0
                       AND COALESCE(cardinality(old_absence_score), 0) > 0;
    presence INT[] := cur_presence_score;
    absence INT[] := cur_absence_score;
    count_answers INT := COALESCE(cur_count_answers, 0);
    excess INT;
    total BIGINT;
    ratio DOUBLE PRECISION;
    x DOUBLE PRECISION[] := '{}';
    norm DOUBLE PRECISION := 0.0;
    weight DOUBLE PRECISION;
    personality FLOAT4[] := '{}';
    i INT;
BEGIN
    IF has_new THEN
        FOR i IN 1..n LOOP
            excess := LEAST(new_presence_score[i], new_absence_score[i]);
            presence[i] := presence[i] + new_presence_score[i] - excess;
            absence[i] := absence[i] + new_absence_score[i] - excess;
        END LOOP;
        count_answers := count_answers + 1;
    END IF;
    IF has_old THEN
        FOR i IN 1..n LOOP
            excess := LEAST(old_presence_score[i], old_absence_score[i]);
            presence[i] := presence[i] - (old_presence_score[i] - excess);
            absence[i] := absence[i] - (old_absence_score[i] - excess);
        END LOOP;
        count_answers := count_answers - 1;
    END IF;

    FOR i IN 1..n LOOP
        total := presence[i]::BIGINT + absence[i]::BIGINT;
        IF total = 0 THEN
            ratio := 0.5;
        ELSE
            ratio := presence[i]::DOUBLE PRECISION / total;
        END IF;
        x := x || (2.0::DOUBLE PRECISION * ratio - 1.0::DOUBLE PRECISION);
    END LOOP;
    x := x || 1e-5::DOUBLE PRECISION;
    FOR i IN 1..cardinality(x) LOOP
        norm := norm + x[i] * x[i];
    END LOOP;
    norm := sqrt(norm);

    weight := ln(ln(GREATEST(count_answers, 0)::DOUBLE PRECISION + 1.0::DOUBLE PRECISION)
                 + 1.0::DOUBLE PRECISION)
              / ln(ln(250.0::DOUBLE PRECISION + 1.0::DOUBLE PRECISION) + 1.0::DOUBLE PRECISION);
    weight := LEAST(1.0::DOUBLE PRECISION, GREATEST(0.0::DOUBLE PRECISION, weight));

    FOR i IN 1..cardinality(x) LOOP
        personality := personality || (weight * x[i] / norm)::FLOAT4;
    END LOOP;

    RETURN ROW(personality, presence, absence, count_answers::SMALLINT)::personality_vectors;
END;
$$;

CREATE FUNCTION trait_ratio(presence_score INT[], absence_score INT[], score_threshold INT)
RETURNS TABLE (trait_id SMALLINT, ratio FLOAT4)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT
        p.i::SMALLINT,
        CASE
            WHEN p.v::BIGINT + a.v::BIGINT >= GREATEST(1, score_threshold)
            THEN (p.v::DOUBLE PRECISION / (p.v::BIGINT + a.v::BIGINT))::FLOAT4
        END
    FROM unnest(presence_score) WITH ORDINALITY AS p(v, i)
    JOIN unnest(absence_score) WITH ORDINALITY AS a(v, i) ON a.i = p.i
    ORDER BY p.i
$$;

CREATE FUNCTION refresh_has_profile_picture_id(p_person_id INT) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    updated INTEGER;
BEGIN
    UPDATE person
    SET has_profile_picture_id = CASE
        WHEN EXISTS (SELECT 1 FROM photo WHERE photo.person_id = p_person_id)
        THEN (SELECT id FROM yes_no WHERE name = 'Yes')
        ELSE (SELECT id FROM yes_no WHERE name = 'No')
    END
    WHERE id = p_person_id;
    GET DIAGNOSTICS updated = ROW_COUNT;
    RETURN updated;
END;
$$;

-- The location nearest to (lat, lon) by geodesic distance (ties: lowest id); NULL when the
-- table is empty. Searches growing radii through the GiST index, so it is exact and fast.
CREATE FUNCTION nearest_location_id(p_lat DOUBLE PRECISION, p_lon DOUBLE PRECISION)
RETURNS INT
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    radius DOUBLE PRECISION;
    found_id INT;
    found_distance DOUBLE PRECISION;
BEGIN
    FOREACH radius IN ARRAY ARRAY[25000.0, 250000.0, 2500000.0, 21000000.0]::DOUBLE PRECISION[] LOOP
        SELECT l.id, geo_distance_m(l.latitude, l.longitude, p_lat, p_lon)
        INTO found_id, found_distance
        FROM location l
        WHERE l.coordinates <@ geo_bbox(p_lat, p_lon, radius)
        ORDER BY 2, 1
        LIMIT 1;
        IF found_id IS NOT NULL AND found_distance <= radius THEN
            RETURN found_id;
        END IF;
    END LOOP;
    RETURN found_id;
END;
$$;

-- ---------------------------------------------------------------------------
-- Triggers (section 5)
-- ---------------------------------------------------------------------------

CREATE FUNCTION trigger_fn_refresh_has_profile_picture_id() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_has_profile_picture_id(OLD.person_id);
    ELSE
        PERFORM refresh_has_profile_picture_id(NEW.person_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_refresh_has_profile_picture_id
AFTER INSERT OR DELETE ON photo
FOR EACH ROW EXECUTE FUNCTION trigger_fn_refresh_has_profile_picture_id();

CREATE FUNCTION trigger_fn_copy_person_to_person_club() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.activated IS DISTINCT FROM OLD.activated
       OR NEW.latitude IS DISTINCT FROM OLD.latitude
       OR NEW.longitude IS DISTINCT FROM OLD.longitude
       OR NEW.gender_id IS DISTINCT FROM OLD.gender_id
    THEN
        UPDATE person_club
        SET activated = NEW.activated,
            latitude = NEW.latitude,
            longitude = NEW.longitude,
            gender_id = NEW.gender_id
        WHERE person_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_copy_person_to_person_club
AFTER UPDATE ON person
FOR EACH ROW EXECUTE FUNCTION trigger_fn_copy_person_to_person_club();

CREATE FUNCTION trigger_fn_populate_person_club_defaults() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.activated, p.latitude, p.longitude, p.gender_id
    INTO NEW.activated, NEW.latitude, NEW.longitude, NEW.gender_id
    FROM person p
    WHERE p.id = NEW.person_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trigger_populate_person_club_defaults
BEFORE INSERT ON person_club
FOR EACH ROW EXECUTE FUNCTION trigger_fn_populate_person_club_defaults();

-- ---------------------------------------------------------------------------
-- Indexes (section 8)
-- ---------------------------------------------------------------------------

-- distance filtering in search: bounding box through GiST, gender through b-tree
CREATE INDEX idx__person__activated__coordinates ON person USING gist (coordinates) WHERE activated;
CREATE INDEX idx__person__activated__gender_id ON person (gender_id) WHERE activated;
-- search within a club
CREATE INDEX idx__person_club__activated__club_name__gender_id
    ON person_club (club_name, gender_id) WHERE activated;
CREATE INDEX idx__person_club__activated__coordinates
    ON person_club USING gist (coordinates) WHERE activated;

CREATE INDEX idx__person__sign_up_time ON person (sign_up_time);
CREATE INDEX idx__person__tiny_id ON person (tiny_id);
CREATE INDEX idx__person__email ON person (email);
-- (person.uuid: served by its UNIQUE constraint's index)
CREATE INDEX idx__person__normalized_email ON person (normalized_email);
CREATE INDEX idx__person__last_event_time ON person (last_event_time);
CREATE INDEX idx__person__last_online_time ON person (last_online_time);
CREATE INDEX idx__person__roles ON person USING gin (roles);

-- (search_cache (searcher_person_id, position): served by its primary key)

CREATE INDEX idx__answer__question_id ON answer (question_id);
CREATE INDEX idx__answer__person_id_public_answer ON answer (person_id, public_, answer);

CREATE INDEX idx__duo_session__email ON duo_session (email);
CREATE INDEX idx__duo_session__session_expiry ON duo_session (session_expiry);
CREATE INDEX idx__duo_session__person_id ON duo_session (person_id);

CREATE INDEX idx__location__coordinates ON location USING gist (coordinates);
-- location search: candidates start with the query's first character (case-insensitive);
-- ranking is done in-process
CREATE INDEX idx__location__long_friendly ON location (lower(long_friendly) text_pattern_ops);
CREATE INDEX idx__question__question ON question (lower(question) text_pattern_ops);
CREATE INDEX idx__club__name ON club (name text_pattern_ops);
CREATE INDEX idx__club__count_members__name ON club (count_members, name);

CREATE INDEX idx__banned_person__ip_address ON banned_person (ip_address);
CREATE INDEX idx__banned_person__expires_at ON banned_person (expires_at);
CREATE INDEX idx__banned_person_admin_token__expires_at ON banned_person_admin_token (expires_at);
CREATE INDEX idx__export_data_token__expires_at ON export_data_token (expires_at);
CREATE INDEX idx__deleted_photo_admin_token__expires_at ON deleted_photo_admin_token (expires_at);

CREATE INDEX idx__photo__uuid ON photo (uuid);
CREATE INDEX idx__photo__nsfw_score ON photo (nsfw_score);
CREATE INDEX idx__onboardee_photo__uuid ON onboardee_photo (uuid);
CREATE INDEX idx__onboardee__created_at ON onboardee (created_at);

CREATE INDEX idx__verification_job__status ON verification_job (status);
CREATE INDEX idx__verification_job__person_id ON verification_job (person_id);
CREATE INDEX idx__verification_job__expires_at ON verification_job (expires_at);

CREATE INDEX idx__skipped__object_person_id__created_at__reported
    ON skipped (object_person_id, created_at) WHERE reported;
CREATE INDEX idx__skipped__object_person_id__subject_person_id
    ON skipped (object_person_id, subject_person_id);
CREATE INDEX idx__messaged__object_person_id__subject_person_id__created_at
    ON messaged (object_person_id, subject_person_id, created_at);
CREATE INDEX idx__messaged__object_person_id__created_at ON messaged (object_person_id, created_at);
CREATE INDEX idx__visited__object_person_id ON visited (object_person_id);

CREATE INDEX idx__mam_message__person_id__remote_bare_jid__id
    ON mam_message (person_id, remote_bare_jid, id);
CREATE INDEX idx__mam_message__audio_uuid ON mam_message (audio_uuid);
CREATE INDEX duo_idx__mam_message__remote_bare_jid__id
    ON mam_message (remote_bare_jid, id) WHERE direction = 'I';
CREATE INDEX idx__inbox__luser__timestamp ON inbox (luser, timestamp);
CREATE INDEX idx__inbox__luser__box ON inbox (luser, box);
CREATE INDEX duo_idx__inbox__timestamp__unread_count
    ON inbox (timestamp, unread_count) WHERE unread_count > 0;

CREATE INDEX idx__intro_hash__last_used_at ON intro_hash (last_used_at);

-- ---------------------------------------------------------------------------
-- Search candidates (matching.md §9: the uncached search inside 100 ms at 100 000 people)
-- ---------------------------------------------------------------------------
--
-- * search_candidate: one narrow row per ACTIVATED person with every column the ranking and
--   the hard filters of §9.4 read from the prospect (gender, verified flag, position,
--   personality, the one-way attributes, date of birth, height, the privacy/verification
--   flags, roles) and copies of the prospect's own gender, distance and age preferences
--   (pref_*). Scanning it instead of the wide person row plus three preference tables is
--   what keeps an unlimited-distance search over 100 000 people inside its time budget.
-- * search_place counts the candidates standing at each point per gender. People stand at
--   city points, so there are few places: the search sums their counts nearest first to
--   find the ring that holds the nearest 30 000 (the pool cap), and never reads the
--   candidates beyond it.
-- Both are kept by triggers; search_candidates_rebuild() recomputes them from scratch for
-- bulk loads that run with triggers off (session_replication_role = replica).

CREATE TABLE search_candidate (
    person_id INT PRIMARY KEY REFERENCES person(id) ON DELETE CASCADE,
    gender_id SMALLINT NOT NULL,
    verified BOOLEAN NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    coordinates POINT GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
    sphere_point VECTOR(3) GENERATED ALWAYS AS (unit_sphere(latitude, longitude)) STORED,
    personality VECTOR(47) NOT NULL,
    date_of_birth DATE NOT NULL DEFAULT '1900-01-01',
    height_cm SMALLINT,
    verification_level_id SMALLINT NOT NULL DEFAULT 1,
    verification_required BOOLEAN NOT NULL DEFAULT FALSE,
    hide_me_from_strangers BOOLEAN NOT NULL DEFAULT FALSE,
    roles TEXT[] NOT NULL DEFAULT '{}',
    orientation_id SMALLINT NOT NULL DEFAULT 1,
    ethnicity_id SMALLINT NOT NULL DEFAULT 1,
    has_profile_picture_id SMALLINT NOT NULL DEFAULT 2,
    looking_for_id SMALLINT NOT NULL DEFAULT 1,
    smoking_id SMALLINT NOT NULL DEFAULT 1,
    drinking_id SMALLINT NOT NULL DEFAULT 1,
    drugs_id SMALLINT NOT NULL DEFAULT 1,
    long_distance_id SMALLINT NOT NULL DEFAULT 1,
    relationship_status_id SMALLINT NOT NULL DEFAULT 1,
    has_kids_id SMALLINT NOT NULL DEFAULT 1,
    wants_kids_id SMALLINT NOT NULL DEFAULT 1,
    exercise_id SMALLINT NOT NULL DEFAULT 1,
    religion_id SMALLINT NOT NULL DEFAULT 1,
    star_sign_id SMALLINT NOT NULL DEFAULT 1,
    -- the prospect's preferences: wanted genders; furthest distance (NULL: no limit);
    -- age bounds with NULL bounds (and a missing row: no age filter) as 0 / 999
    pref_gender_ids SMALLINT[] NOT NULL DEFAULT '{}',
    pref_distance_km SMALLINT,
    pref_min_age INT NOT NULL DEFAULT 0,
    pref_max_age INT NOT NULL DEFAULT 999
);

CREATE INDEX idx__search_candidate__coordinates ON search_candidate USING gist (coordinates);
CREATE INDEX idx__search_candidate__gender_id ON search_candidate (gender_id);

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

CREATE FUNCTION trigger_fn_sync_search_candidate() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_candidate_sync(ARRAY[NEW.id]);
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


-- ======================================================================================
-- The embedded scheduler (scheduler.md).
--
-- * duo_job: what each scheduled job did last, written by the leader after every iteration
--   so that `duo jobs` (another process) and /health/details can show it.
-- * duo_job_leader: the process that holds the scheduler's advisory lock, and the backend
--   pid of the connection holding it (pg_locks tells whether that leader is still alive).
-- * verification_job.started_at: when the runner took the job, so a job stuck in `running`
--   (its runner died) is queued again after a timeout; raw_json may be NULL: no answer.

CREATE TABLE duo_job (
    name TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    dry_run BOOLEAN,
    last_started_at TIMESTAMPTZ,
    last_finished_at TIMESTAMPTZ,
    last_ok BOOLEAN,
    last_result TEXT NOT NULL DEFAULT '',
    consecutive_failures INT NOT NULL DEFAULT 0,
    runs INT NOT NULL DEFAULT 0,
    ran_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE duo_job_leader (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    process TEXT NOT NULL,
    backend_pid INT NOT NULL,
    since TIMESTAMPTZ NOT NULL
);

ALTER TABLE verification_job
    ADD COLUMN started_at TIMESTAMPTZ,
    ALTER COLUMN raw_json DROP NOT NULL;


-- ======================================================================================
-- Admin bans (http-api-accounts §10.2, README "bans of people with no recorded IP ban no
-- IP"): a person without any session IP is banned by e-mail alone, stored as a NULL
-- ip_address.  The reference stored 127.0.0.1 there, which blocked every request arriving
-- from that address.  The key stays (normalized_email, ip_address), now a unique
-- constraint in which NULLs are equal, so an e-mail-only ban is recorded once.

ALTER TABLE banned_person DROP CONSTRAINT banned_person_pkey;
ALTER TABLE banned_person ALTER COLUMN ip_address DROP NOT NULL;
ALTER TABLE banned_person ALTER COLUMN ip_address DROP DEFAULT;
ALTER TABLE banned_person
    ADD CONSTRAINT banned_person_normalized_email_ip_address_key
    UNIQUE NULLS NOT DISTINCT (normalized_email, ip_address);


-- ======================================================================================
-- The feed and the uncached search at 100 000 people (issue 8 §3).
--
-- * feed_candidate: one narrow row per person holding what the feed's first steps read
--   (http-api-social §11 steps 1–3: the two times, the event name, the privacy and
--   verification flags, birth and sign-up dates, and two flags folded from wide columns).
--   Its covering indexes on each time let the feed take "the 5 000 latest of each source"
--   index-only, instead of fetching 10 000 wide person rows; the event data is read from
--   person only for the candidates that get that far. Kept by triggers on person (and its key);
--   feed_candidates_rebuild() recomputes it for bulk loads run with triggers off.
-- * search_cache drops its foreign key for a delete trigger: the key check cost each of
--   the 500 rows an uncached search writes a lookup and a row lock on the searcher.

CREATE TABLE feed_candidate (
    person_id INT PRIMARY KEY REFERENCES person(id) ON DELETE CASCADE,
    last_online_time TIMESTAMPTZ NOT NULL,
    last_event_time TIMESTAMPTZ NOT NULL,
    last_event_name person_event NOT NULL,
    activated BOOLEAN NOT NULL,
    verification_level_id SMALLINT NOT NULL,
    privacy_verification_level_id SMALLINT NOT NULL,
    verification_required BOOLEAN NOT NULL,
    hide_me_from_strangers BOOLEAN NOT NULL,
    date_of_birth DATE NOT NULL,
    sign_up_time TIMESTAMPTZ NOT NULL,
    -- a theme other than the default, or gold ("seems human" without the time rule)
    styled BOOLEAN NOT NULL,
    -- at least 25 answers and a bio ("seems human" with a club)
    maybe_human BOOLEAN NOT NULL
);

CREATE INDEX idx__feed_candidate__last_online_time ON feed_candidate (last_online_time)
    INCLUDE (person_id, last_event_time, last_event_name, activated, verification_level_id,
             privacy_verification_level_id, verification_required, hide_me_from_strangers,
             date_of_birth, sign_up_time, styled, maybe_human);
CREATE INDEX idx__feed_candidate__last_event_time ON feed_candidate (last_event_time)
    INCLUDE (person_id, last_online_time, last_event_name, activated, verification_level_id,
             privacy_verification_level_id, verification_required, hide_me_from_strangers,
             date_of_birth, sign_up_time, styled, maybe_human);
-- times change all day: a low threshold keeps the visibility map (index-only scans) fresh
ALTER TABLE feed_candidate SET (autovacuum_vacuum_scale_factor = 0.01,
                                autovacuum_vacuum_insert_scale_factor = 0.01);

-- (Re)write the feed rows of these people from person (a deleted person's row goes by its key).
CREATE FUNCTION feed_candidate_sync(ids INT[]) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO feed_candidate AS f (
        person_id, last_online_time, last_event_time, last_event_name, activated,
        verification_level_id, privacy_verification_level_id, verification_required,
        hide_me_from_strangers, date_of_birth, sign_up_time, styled, maybe_human)
    SELECT p.id, p.last_online_time, p.last_event_time, p.last_event_name, p.activated,
           p.verification_level_id, p.privacy_verification_level_id, p.verification_required,
           p.hide_me_from_strangers, p.date_of_birth, p.sign_up_time,
           lower(p.title_color) <> '#000000' OR lower(p.body_color) <> '#000000'
               OR lower(p.background_color) <> '#ffffff' OR p.has_gold,
           p.count_answers >= 25 AND p.about <> ''
    FROM (SELECT DISTINCT id FROM unnest(ids) AS i(id)) i
    JOIN person p ON p.id = i.id
    ON CONFLICT (person_id) DO UPDATE SET
        last_online_time = EXCLUDED.last_online_time, last_event_time = EXCLUDED.last_event_time,
        last_event_name = EXCLUDED.last_event_name, activated = EXCLUDED.activated,
        verification_level_id = EXCLUDED.verification_level_id,
        privacy_verification_level_id = EXCLUDED.privacy_verification_level_id,
        verification_required = EXCLUDED.verification_required,
        hide_me_from_strangers = EXCLUDED.hide_me_from_strangers,
        date_of_birth = EXCLUDED.date_of_birth, sign_up_time = EXCLUDED.sign_up_time,
        styled = EXCLUDED.styled, maybe_human = EXCLUDED.maybe_human;
$$;

CREATE FUNCTION trigger_fn_sync_feed_candidate() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_candidate_sync(ARRAY[NEW.id]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_sync_feed_candidate_insert AFTER INSERT ON person
FOR EACH ROW EXECUTE FUNCTION trigger_fn_sync_feed_candidate();

CREATE TRIGGER trigger_sync_feed_candidate_update AFTER UPDATE ON person
FOR EACH ROW WHEN (
    ROW(OLD.last_online_time, OLD.last_event_time, OLD.last_event_name, OLD.activated,
        OLD.verification_level_id, OLD.privacy_verification_level_id,
        OLD.verification_required, OLD.hide_me_from_strangers, OLD.date_of_birth,
        OLD.sign_up_time, OLD.title_color, OLD.body_color, OLD.background_color, OLD.has_gold,
        OLD.count_answers >= 25, OLD.about <> '')
    IS DISTINCT FROM ROW(NEW.last_online_time, NEW.last_event_time, NEW.last_event_name,
        NEW.activated, NEW.verification_level_id, NEW.privacy_verification_level_id,
        NEW.verification_required, NEW.hide_me_from_strangers, NEW.date_of_birth,
        NEW.sign_up_time, NEW.title_color, NEW.body_color, NEW.background_color, NEW.has_gold,
        NEW.count_answers >= 25, NEW.about <> '')
)
EXECUTE FUNCTION trigger_fn_sync_feed_candidate();

-- Everything from scratch: after bulk loads that ran with triggers off.
CREATE FUNCTION feed_candidates_rebuild() RETURNS VOID
LANGUAGE sql AS $$
    DELETE FROM feed_candidate f WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = f.person_id);
    SELECT feed_candidate_sync(ARRAY(SELECT id FROM person));
$$;

SELECT feed_candidates_rebuild();

ALTER TABLE search_cache DROP CONSTRAINT search_cache_searcher_person_id_fkey;

CREATE FUNCTION trigger_fn_forget_search_cache() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_cache c USING gone WHERE c.searcher_person_id = gone.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_forget_search_cache AFTER DELETE ON person
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION trigger_fn_forget_search_cache();
