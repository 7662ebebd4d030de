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
