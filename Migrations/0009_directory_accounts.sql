-- Accounts from the hospital's directory (LDAP / Active Directory). Such a user has no local
-- password: the directory checks it at each sign-in, and its groups set the role each time.

ALTER TABLE users
    ADD COLUMN source text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'directory')),
    ADD COLUMN directory_dn text;
