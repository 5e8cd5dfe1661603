-- Delineate schema, version 1. Never edit this file after it has landed: add 0002_*.sql instead.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._-]{1,64}$'),
    display_name  text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('annotator', 'reviewer', 'admin')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_sessions (
    token_hash   text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    client_address text
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE patients (
    id           bigserial PRIMARY KEY,
    patient_id   text NOT NULL,
    issuer       text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    birth_date   text NOT NULL DEFAULT '',
    sex          text NOT NULL DEFAULT '',
    UNIQUE (patient_id, issuer)
);

CREATE TABLE studies (
    id                 bigserial PRIMARY KEY,
    patient_ref        bigint NOT NULL REFERENCES patients (id),
    study_instance_uid text NOT NULL UNIQUE,
    study_date         text NOT NULL DEFAULT '',
    study_time         text NOT NULL DEFAULT '',
    accession_number   text NOT NULL DEFAULT '',
    description        text NOT NULL DEFAULT ''
);

CREATE TABLE series (
    id                  bigserial PRIMARY KEY,
    study_ref           bigint NOT NULL REFERENCES studies (id),
    series_instance_uid text NOT NULL UNIQUE,
    modality            text NOT NULL DEFAULT '',
    body_part           text NOT NULL DEFAULT '',
    description         text NOT NULL DEFAULT '',
    series_number       integer,
    last_received_at    timestamptz NOT NULL DEFAULT now(),
    -- receiving | complete | assembled | rejected
    status              text NOT NULL DEFAULT 'receiving'
                        CHECK (status IN ('receiving', 'complete', 'assembled', 'rejected')),
    status_reason       text NOT NULL DEFAULT ''
);

CREATE TABLE instances (
    id                  bigserial PRIMARY KEY,
    series_ref          bigint NOT NULL REFERENCES series (id),
    sop_instance_uid    text NOT NULL UNIQUE,
    sop_class_uid       text NOT NULL,
    transfer_syntax_uid text NOT NULL DEFAULT '',
    instance_number     integer,
    file_sha256         text NOT NULL,
    file_size           bigint NOT NULL,
    number_of_frames    integer NOT NULL DEFAULT 1,
    rows                integer,
    columns             integer,
    image_position      double precision[],
    image_orientation   double precision[],
    pixel_spacing       double precision[],
    received_at         timestamptz NOT NULL DEFAULT now(),
    calling_ae          text NOT NULL DEFAULT ''
);
CREATE INDEX instances_series ON instances (series_ref);

CREATE TABLE volumes (
    id           bigserial PRIMARY KEY,
    series_ref   bigint NOT NULL UNIQUE REFERENCES series (id),
    columns      integer NOT NULL,
    rows         integer NOT NULL,
    slices       integer NOT NULL,
    origin       double precision[] NOT NULL,
    direction    double precision[] NOT NULL,
    spacing      double precision[] NOT NULL,
    -- SOP Instance UID and frame number of each slice, in volume order
    slice_sources jsonb NOT NULL,
    flags        text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE models (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    version       text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('interactive', 'propagation')),
    -- [{index, name, category code, type code, colour}]
    classes       jsonb NOT NULL,
    class_count   integer NOT NULL,
    memory_depth  integer NOT NULL DEFAULT 0,
    input_size    integer NOT NULL,
    normalisation jsonb NOT NULL DEFAULT '{}',
    file_sha256   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

CREATE TABLE cases (
    id          bigserial PRIMARY KEY,
    series_ref  bigint NOT NULL REFERENCES series (id),
    model_ref   bigint REFERENCES models (id),
    status      text NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'in_progress', 'accepted', 'exported')),
    assignee    bigint REFERENCES users (id),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_assignee ON cases (assignee);

CREATE TABLE annotation_sessions (
    id          bigserial PRIMARY KEY,
    case_ref    bigint NOT NULL REFERENCES cases (id),
    user_ref    bigint NOT NULL REFERENCES users (id),
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);

CREATE TABLE rounds (
    id                  bigserial PRIMARY KEY,
    case_ref            bigint NOT NULL REFERENCES cases (id),
    session_ref         bigint REFERENCES annotation_sessions (id),
    user_ref            bigint REFERENCES users (id),
    number              integer NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('click', 'propagate', 'fusion')),
    slice_index         integer,
    started_at          timestamptz NOT NULL DEFAULT now(),
    duration_ms         double precision NOT NULL DEFAULT 0,
    inference_ms        double precision NOT NULL DEFAULT 0,
    quality_scores      real[],
    UNIQUE (case_ref, number, kind, slice_index)
);

CREATE TABLE interactions (
    id                bigserial PRIMARY KEY,
    round_ref         bigint NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    sequence          integer NOT NULL,
    class_index       integer NOT NULL,
    slice_index       integer NOT NULL,
    x                 double precision NOT NULL,
    y                 double precision NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('click', 'erase', 'scribble')),
    client_timestamp  timestamptz,
    server_timestamp  timestamptz NOT NULL DEFAULT now(),
    latency_ms        double precision NOT NULL DEFAULT 0,
    undone            boolean NOT NULL DEFAULT false,
    UNIQUE (round_ref, sequence)
);

CREATE TABLE masks (
    id          bigserial PRIMARY KEY,
    case_ref    bigint NOT NULL REFERENCES cases (id),
    round_ref   bigint REFERENCES rounds (id),
    accepted    boolean NOT NULL DEFAULT false,
    encoding    text NOT NULL CHECK (encoding IN ('rle-u8')),
    columns     integer NOT NULL,
    rows        integer NOT NULL,
    slices      integer NOT NULL,
    data        bytea NOT NULL,
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX masks_case ON masks (case_ref);

CREATE TABLE pacs_nodes (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    ae_title    text NOT NULL,
    host        text NOT NULL,
    port        integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    dicomweb_url text,
    use_tls     boolean NOT NULL DEFAULT false
);

CREATE TABLE exports (
    id                bigserial PRIMARY KEY,
    case_ref          bigint NOT NULL REFERENCES cases (id),
    mask_ref          bigint NOT NULL REFERENCES masks (id),
    destination       bigint NOT NULL REFERENCES pacs_nodes (id),
    sop_instance_uid  text NOT NULL,
    file_sha256       text,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    UNIQUE (mask_ref, destination)
);

CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    user_ref       bigint REFERENCES users (id),
    username       text NOT NULL DEFAULT '',
    action         text NOT NULL,
    patient_id     text,
    study_instance_uid text,
    case_ref       bigint,
    client_address text,
    detail         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_ref);

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    locked_by    text,
    locked_until timestamptz,
    last_error   text NOT NULL DEFAULT '',
    run_after    timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX jobs_ready ON jobs (run_after) WHERE status = 'queued';
