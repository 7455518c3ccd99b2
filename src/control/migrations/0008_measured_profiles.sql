-- A measured phase's time profile: when 10 %, 20 % ... 90 % of its bytes were done, as shares
-- of its time from start to last byte (src/estimate/profile.ts). NULL: not measured (rows
-- written before this column, or phases too short for one); a NULL element: that tenth was
-- passed before the first progress report.

ALTER TABLE measured_rates
  ADD COLUMN profile double precision[]
    CHECK (profile IS NULL OR (array_ndims(profile) = 1 AND cardinality(profile) = 9
      AND (0 <= ALL (profile)) IS NOT FALSE AND (1 >= ALL (profile)) IS NOT FALSE));
