-- Mappings remembered before the header row was kept as a blind index: the plain header rows go.
DELETE FROM import_templates;
