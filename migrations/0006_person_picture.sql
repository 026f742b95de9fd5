-- Version 6: a person's picture (issue 4, item 6).
--
-- A picture is uploaded on the person's page and kept, as two thumbnails,
-- in the storage that STORAGE_URL names, under
-- `pictures/<person id>/<version>/`. The row records that folder and the
-- format of its files (`jpeg` or `png`); both are NULL while the person
-- has no picture. Every upload gets a new folder, so the folder also
-- tells pages and caches that the picture changed. Nothing queries by
-- these columns, so they need no index.
ALTER TABLE people ADD COLUMN picture_key TEXT;
ALTER TABLE people ADD COLUMN picture_format TEXT;
