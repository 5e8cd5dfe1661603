-- Structures a user named in a case (any-structure mode): each is driven by the class-agnostic
-- network and has a label value of its own above the case model's classes, and the codes its
-- DICOM-SEG segment carries.
CREATE TABLE case_structures (
    id               bigserial PRIMARY KEY,
    case_ref         bigint NOT NULL REFERENCES cases (id),
    label_value      smallint NOT NULL CHECK (label_value BETWEEN 1 AND 255),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    type_scheme      text NOT NULL,
    type_code        text NOT NULL,
    type_meaning     text NOT NULL,
    category_scheme  text NOT NULL,
    category_code    text NOT NULL,
    category_meaning text NOT NULL,
    colour           smallint[] NOT NULL CHECK (cardinality(colour) = 3),
    created_by       bigint REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_ref, label_value),
    UNIQUE (case_ref, name)
);
