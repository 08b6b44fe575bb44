#ifndef VETO_COPENSSL_SHIM_H
#define VETO_COPENSSL_SHIM_H

// Only the OpenSSL 3.0 API: deprecated functions vanish at compile time instead of warning.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

// Swift does not import function-like macros, nor macros defined in terms of other macros.
// Each is re-exposed here as an inline function or an enum constant with the veto_openssl_ prefix.

/// OPENSSL_free is a macro over CRYPTO_free that records the caller's file and line.
static inline void veto_openssl_free(void *pointer) {
    OPENSSL_free(pointer);
}

/// BIO_get_mem_data is a macro over BIO_ctrl.
static inline long veto_openssl_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

/// Key type identifiers are aliases of NID_* macros, which Swift does not follow.
enum {
    VETO_OPENSSL_PKEY_RSA = EVP_PKEY_RSA,
    VETO_OPENSSL_PKEY_RSA_PSS = EVP_PKEY_RSA_PSS,
    VETO_OPENSSL_PKEY_EC = EVP_PKEY_EC,
    VETO_OPENSSL_PKEY_ED25519 = EVP_PKEY_ED25519,
    VETO_OPENSSL_PKEY_ED448 = EVP_PKEY_ED448,
};

/// EVP_PKEY_fromdata selections are OR-ed OSSL_KEYMGMT_SELECT_* macros.
enum {
    VETO_OPENSSL_SELECT_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY,
    VETO_OPENSSL_SELECT_KEYPAIR = EVP_PKEY_KEYPAIR,
};

/// RSA padding and PSS salt-length constants, spelled once so Swift sees plain Int32 values.
enum {
    VETO_OPENSSL_RSA_PKCS1_PADDING = RSA_PKCS1_PADDING,
    VETO_OPENSSL_RSA_PKCS1_PSS_PADDING = RSA_PKCS1_PSS_PADDING,
    VETO_OPENSSL_RSA_PSS_SALTLEN_DIGEST = RSA_PSS_SALTLEN_DIGEST,
};

/// RSA CRT parameter names are built by string-literal concatenation, which Swift does not import.
static inline const char *veto_openssl_param_rsa_factor1(void) { return OSSL_PKEY_PARAM_RSA_FACTOR1; }
static inline const char *veto_openssl_param_rsa_factor2(void) { return OSSL_PKEY_PARAM_RSA_FACTOR2; }
static inline const char *veto_openssl_param_rsa_exponent1(void) { return OSSL_PKEY_PARAM_RSA_EXPONENT1; }
static inline const char *veto_openssl_param_rsa_exponent2(void) { return OSSL_PKEY_PARAM_RSA_EXPONENT2; }
static inline const char *veto_openssl_param_rsa_coefficient1(void) { return OSSL_PKEY_PARAM_RSA_COEFFICIENT1; }

/// True when the last error on this thread's queue is PEM's "no start line", i.e. no more PEM blocks.
static inline int veto_openssl_last_error_is_pem_no_start_line(void) {
    unsigned long code = ERR_peek_last_error();
    return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

#endif
