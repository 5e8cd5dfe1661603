-- Brush and eraser strokes are interactions of their own: kind 'brush' paints class_index, kind
-- 'eraser' clears every label. painted holds the pixels the stroke covered as a run-length encoded
-- slice mask ('rle-u8', the masks table's encoding, 1 = covered); x and y are the stroke's first point.
ALTER TABLE interactions DROP CONSTRAINT interactions_kind_check;
ALTER TABLE interactions ADD CONSTRAINT interactions_kind_check
    CHECK (kind IN ('click', 'erase', 'scribble', 'brush', 'eraser'));
ALTER TABLE interactions ADD COLUMN painted bytea;
ALTER TABLE interactions ADD CONSTRAINT interactions_strokes_painted
    CHECK ((kind IN ('brush', 'eraser')) = (painted IS NOT NULL));
