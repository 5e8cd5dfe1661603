-- A named structure's Segmented Property Type Modifier: laterality (SCT 7771000 "Left",
-- 24028007 "Right") for "left kidney" and the like, written into its DICOM-SEG segment.
-- NULL for structures without one (all named before this migration).
ALTER TABLE case_structures
    ADD COLUMN modifier_scheme  text,
    ADD COLUMN modifier_code    text,
    ADD COLUMN modifier_meaning text,
    ADD CONSTRAINT case_structures_modifier_whole
        CHECK ((modifier_scheme IS NULL) = (modifier_code IS NULL)
            AND (modifier_code IS NULL) = (modifier_meaning IS NULL));
