-- Decoded volumes written by background workers (job kind 'volume.cache'), so opening a case
-- reads one file instead of decoding every instance. The file lives in the content-addressed store.
CREATE TABLE volume_caches (
    series_ref   bigint PRIMARY KEY REFERENCES series (id),
    encoding     text NOT NULL CHECK (encoding IN ('int16-le', 'float32-le')),
    voxel_count  bigint NOT NULL,
    file_sha256  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Workers find ready jobs by kind as well as time.
CREATE INDEX jobs_ready_kind ON jobs (kind, run_after) WHERE status = 'queued';
