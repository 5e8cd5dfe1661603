-- A brush or eraser stroke drawn in a side view: plane 'row' (a row through every slice, the
-- coronal or sagittal view) or 'column' (a column through every slice); slice_index then holds the
-- row's or column's number and painted the plane's mask (columns or rows wide, one line per slice).
-- Such strokes belong to the round's click row whose slice_index is NULL, as they cross slices.
ALTER TABLE interactions ADD COLUMN plane text NOT NULL DEFAULT 'slice'
    CHECK (plane IN ('slice', 'row', 'column'));
ALTER TABLE interactions ADD CONSTRAINT interactions_side_views_are_strokes
    CHECK (plane = 'slice' OR kind IN ('brush', 'eraser'));
