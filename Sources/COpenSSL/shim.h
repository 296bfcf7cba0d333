// The system OpenSSL (Debian's libssl-dev), for the engine's end of connect-back connections
// (Sources/Sprig/Providers/ConnectBack). Wrappers for what OpenSSL declares as macros.
#ifndef SPRIG_COPENSSL_SHIM_H
#define SPRIG_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/// SSL_CTX_set_min_proto_version.
static inline int sprig_ssl_ctx_min_tls13(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION); }

/// Partial writes and a moving write buffer: SSL_write may take part of a buffer and be retried with another pointer.
static inline long sprig_ssl_partial_writes(SSL *ssl) {
    return SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

#endif
