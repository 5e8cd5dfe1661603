-- The interactive model (name and version) that answered a round, so annotation time can be
-- compared between models. Rounds stored before this migration have none ('').
ALTER TABLE rounds ADD COLUMN model text NOT NULL DEFAULT '';
