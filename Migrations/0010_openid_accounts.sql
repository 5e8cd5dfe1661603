-- Accounts from the hospital's OpenID Connect provider (Keycloak, Entra ID, ...): like directory
-- accounts they have no local password and get their role from their groups at each sign-in.
-- directory_dn then holds the provider's issuer and the account's subject ("issuer#sub").

ALTER TABLE users DROP CONSTRAINT users_source_check;
ALTER TABLE users ADD CONSTRAINT users_source_check CHECK (source IN ('local', 'directory', 'oidc'));
