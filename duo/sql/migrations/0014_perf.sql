-- duo schema, version 14: the feed and the uncached search at 100 000 people (issue 8 §3).
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
