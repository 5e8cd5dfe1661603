// The libldap calls behind CLDAP.h.
#include "CLDAP.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct dk_ldap {
    LDAP *ld;
    int timeoutSeconds;
};

/// Writes "what: reason (server's diagnostic)" into the caller's buffer; returns `code`.
static int fail(LDAP *ld, int code, const char *what, char *error, size_t errorLength) {
    if (error == NULL || errorLength == 0) return code;
    char *diagnostic = NULL;
    if (ld != NULL) ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
    if (diagnostic != NULL && diagnostic[0] != '\0') {
        snprintf(error, errorLength, "%s: %s (%s)", what, ldap_err2string(code), diagnostic);
    } else {
        snprintf(error, errorLength, "%s: %s", what, ldap_err2string(code));
    }
    ldap_memfree(diagnostic);
    return code;
}

int dk_ldap_connect(const char *url, const char *trustedCertificates, int timeoutSeconds, dk_ldap **handle,
                    char *error, size_t errorLength) {
    *handle = NULL;
    int secureURL = strncmp(url, "ldaps://", 8) == 0;
    if (!secureURL && strncmp(url, "ldap://", 7) != 0) {
        snprintf(error, errorLength, "%s is not an ldaps:// or ldap:// URL", url);
        return LDAP_PARAM_ERROR;
    }
    LDAP *ld = NULL;
    int code = ldap_initialize(&ld, url);
    if (code != LDAP_SUCCESS) return fail(NULL, code, "LDAP URL", error, errorLength);
    int version = LDAP_VERSION3;
    struct timeval timeout = {timeoutSeconds, 0};
    int demand = LDAP_OPT_X_TLS_DEMAND;
    int minimum = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
    int newContext = 0;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &minimum);
    if (trustedCertificates != NULL && trustedCertificates[0] != '\0') {
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, trustedCertificates);
    }
    code = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &newContext);
    if (code != LDAP_SUCCESS) {
        fail(ld, code, "TLS settings", error, errorLength);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return code;
    }
    if (!secureURL) {
        code = ldap_start_tls_s(ld, NULL, NULL);
        if (code != LDAP_SUCCESS) {
            fail(ld, code, "StartTLS", error, errorLength);
            ldap_unbind_ext_s(ld, NULL, NULL);
            return code;
        }
    }
    *handle = malloc(sizeof(struct dk_ldap));
    (*handle)->ld = ld;
    (*handle)->timeoutSeconds = timeoutSeconds;
    return LDAP_SUCCESS;
}

int dk_ldap_bind(dk_ldap *handle, const char *dn, const char *password, char *error, size_t errorLength) {
    if (password == NULL || password[0] == '\0') {
        snprintf(error, errorLength, "bind: an empty password is not a password");
        return LDAP_INVALID_CREDENTIALS;
    }
    struct berval credentials = {strlen(password), (char *)password};
    int code = ldap_sasl_bind_s(handle->ld, dn, LDAP_SASL_SIMPLE, &credentials, NULL, NULL, NULL);
    return code == LDAP_SUCCESS ? code : fail(handle->ld, code, "bind", error, errorLength);
}

int dk_ldap_search(dk_ldap *handle, const char *base, const char *filter, const char *const *attributes,
                   int sizeLimit, dk_ldap_visitor visitor, void *context, char *error, size_t errorLength) {
    static char *noAttributes[] = {LDAP_NO_ATTRS, NULL};
    char **requested = (attributes == NULL || attributes[0] == NULL) ? noAttributes : (char **)attributes;
    struct timeval timeout = {handle->timeoutSeconds, 0};
    LDAPMessage *result = NULL;
    int code = ldap_search_ext_s(handle->ld, base, LDAP_SCOPE_SUBTREE, filter, requested, 0, NULL, NULL, &timeout,
                                 sizeLimit, &result);
    if (code != LDAP_SUCCESS && code != LDAP_SIZELIMIT_EXCEEDED) {
        ldap_msgfree(result);
        return fail(handle->ld, code, "search", error, errorLength);
    }
    for (LDAPMessage *entry = ldap_first_entry(handle->ld, result); entry != NULL;
         entry = ldap_next_entry(handle->ld, entry)) {
        char *dn = ldap_get_dn(handle->ld, entry);
        if (dn == NULL) continue;
        visitor(context, dn, NULL, NULL);
        for (char **name = requested; *name != NULL; name++) {
            struct berval **values = ldap_get_values_len(handle->ld, entry, *name);
            for (int index = 0; values != NULL && values[index] != NULL; index++) {
                char value[1024];
                size_t length = values[index]->bv_len < sizeof(value) - 1 ? values[index]->bv_len : sizeof(value) - 1;
                memcpy(value, values[index]->bv_val, length);
                value[length] = '\0';
                visitor(context, dn, *name, value);
            }
            ldap_value_free_len(values);
        }
        ldap_memfree(dn);
    }
    ldap_msgfree(result);
    return code;
}

void dk_ldap_close(dk_ldap *handle) {
    if (handle == NULL) return;
    ldap_unbind_ext_s(handle->ld, NULL, NULL);
    free(handle);
}

int dk_ldap_invalid_credentials(void) { return LDAP_INVALID_CREDENTIALS; }

int dk_ldap_size_limit_exceeded(void) { return LDAP_SIZELIMIT_EXCEEDED; }
