// A small C face over OpenLDAP's libldap: connect over TLS, simple bind, subtree search.
#ifndef CLDAP_H
#define CLDAP_H

#include <stddef.h>

/// One connection to a directory server.
typedef struct dk_ldap dk_ldap;

/// Connects to `url`: ldaps://, or ldap:// upgraded with StartTLS (never plain). The server's
/// certificate must be signed by `trustedCertificates` (PEM; empty: the system's CAs) and name the
/// host. Network operations give up after `timeoutSeconds`. Returns an LDAP result code (0: connected,
/// `*handle` set); on failure `error` says why and `*handle` is NULL.
int dk_ldap_connect(const char *url, const char *trustedCertificates, int timeoutSeconds, dk_ldap **handle,
                    char *error, size_t errorLength);

/// A simple bind as `dn`. An empty password is refused with LDAP_INVALID_CREDENTIALS without asking
/// the server, which would take it as an unauthenticated bind. Returns an LDAP result code.
int dk_ldap_bind(dk_ldap *handle, const char *dn, const char *password, char *error, size_t errorLength);

/// Receives a search's results: once per entry with `attribute` NULL, then once per value of each
/// requested attribute the entry holds.
typedef void (*dk_ldap_visitor)(void *context, const char *dn, const char *attribute, const char *value);

/// Searches the subtree under `base` with `filter`, returning `attributes` (a NULL-terminated list;
/// NULL or empty: none) of at most `sizeLimit` entries. Returns an LDAP result code.
int dk_ldap_search(dk_ldap *handle, const char *base, const char *filter, const char *const *attributes,
                   int sizeLimit, dk_ldap_visitor visitor, void *context, char *error, size_t errorLength);

/// Unbinds and frees the connection.
void dk_ldap_close(dk_ldap *handle);

/// The result code for wrong credentials (49).
int dk_ldap_invalid_credentials(void);

/// The result code for a search that found more than its size limit (4).
int dk_ldap_size_limit_exceeded(void);

#endif
