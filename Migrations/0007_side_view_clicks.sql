-- A click in a side view: plane 'row' or 'column', slice_index the row's or column's number, x
-- along the plane's width and y along the slices. The walker segments the plane and carries the
-- change into the slices it crosses, so such clicks belong to the round's click row whose
-- slice_index is NULL, as side-view strokes do. Scribbles stay on slices.
ALTER TABLE interactions DROP CONSTRAINT interactions_side_views_are_strokes;
ALTER TABLE interactions ADD CONSTRAINT interactions_side_views_are_strokes_or_clicks
    CHECK (plane = 'slice' OR kind IN ('brush', 'eraser', 'click', 'erase'));
