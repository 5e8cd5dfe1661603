-- The series' Manufacturer (0008,0070). The multi-class network's classes (large organ, cavity,
-- lesion, ...) describe our procedural phantoms only, so a case offers them only on a series our
-- phantom writer made (Manufacturer "Delineate phantom"); on a patient's images the user names
-- the structures. Series indexed before this migration are known by the description that writer
-- gave them.

ALTER TABLE series ADD COLUMN manufacturer text NOT NULL DEFAULT '';
UPDATE series SET manufacturer = 'Delineate phantom' WHERE description LIKE 'Delineate phantom %';
