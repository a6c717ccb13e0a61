-- 0004: which principals an `admins` row names. A row is matched against the
-- caller's principal (the IAM ARN STS reported, `mtls:<subject>` or
-- `dev:<account>`) by cbq_principal_matches():
--   * exactly: 'arn:aws:iam::111122223333:user/alice';
--   * an IAM role ARN also names every session of that role, as STS reports
--     it: 'arn:aws:iam::111122223333:role/ops/platform' matches
--     'arn:aws:sts::111122223333:assumed-role/platform/<any session>'
--     (role names are unique in an account, whatever their path);
--   * a trailing '*' makes a prefix: 'arn:aws:sts::111122223333:assumed-role/platform-*'.
--     Only at the end, and only after at least 20 other characters, so a row
--     can never name "everyone" by accident.

CREATE FUNCTION cbq_principal_matches(pattern text, principal text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN pattern = principal
        OR (right(pattern, 1) = '*'
            AND left(principal, length(pattern) - 1) = left(pattern, length(pattern) - 1))
        OR (pattern ~ '^arn:[a-z-]+:iam::[0-9]{12}:role/'
            AND principal ~ '^arn:[a-z-]+:sts::[0-9]{12}:assumed-role/[^/]+/[^/]+$'
            AND split_part(pattern, ':', 2) = split_part(principal, ':', 2)
            AND split_part(pattern, ':', 5) = split_part(principal, ':', 5)
            AND regexp_replace(pattern, '^.*/', '')
                = split_part(split_part(principal, ':', 6), '/', 2));
COMMENT ON FUNCTION cbq_principal_matches(text, text) IS
    'Whether an admins row (exact principal, IAM role ARN for its sessions, or prefix*) names principal.';

ALTER TABLE admins ADD CONSTRAINT admins_pattern_star_last
    CHECK (strpos(principal, '*') = 0 OR principal ~ '^[^*]{20,}\*$');
COMMENT ON COLUMN admins.principal IS
    'Exact principal, an IAM role ARN (names its sessions), or a prefix ending in * (see cbq_principal_matches).';
