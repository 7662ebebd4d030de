-- duo schema, version 2: matching functions (matching.md §6, §8).
--
-- * match_score / match_percentage: the match percentage of two personalities, for every
--   query that shows or ranks matches (search, profiles, feed, visitors, inbox info). Plain
--   SQL functions, so the planner inlines them. duo.matching.match computes the same in Python.
-- * compute_personality_vectors: unchanged arithmetic, but the confidence weight is computed
--   in double precision (0001 used NUMERIC logarithms), so the vector is bit-for-bit the one
--   duo.matching.personality computes in Python.

CREATE FUNCTION match_score(a VECTOR, b VECTOR) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT clamp(0, 99, 50 - 50 * (a <#> b))
$$;

CREATE FUNCTION match_percentage(a VECTOR, b VECTOR) RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(clamp(0, 99, 50 - 50 * (a <#> b)))::SMALLINT
$$;

CREATE OR REPLACE FUNCTION compute_personality_vectors(
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
