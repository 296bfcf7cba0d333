import COpenSSL
import Foundation

/// The engine's TLS identity for one run's connect-back connections: an OpenSSL server context
/// with the run's certificate and key (TLS 1.3 only), and the certificate's SHA-256 fingerprint,
/// which managers pin.
///
/// Threading: made once, then only read: OpenSSL allows connections to be made from one context
/// on any number of threads at once.
final class TLSServerContext: @unchecked Sendable {  // the SSL_CTX is not changed after init
    let context: OpaquePointer
    /// The certificate's SHA-256 digest (of its DER form), hex.
    let fingerprint: String

    /// Loads `certificate` and `key` (PEM files).
    /// - Throws: ``ProviderError`` naming the file and what OpenSSL said.
    init(certificate: String, key: String) throws {
        guard let made = SSL_CTX_new(TLS_server_method()) else {
            throw ProviderError(message: "OpenSSL cannot make a TLS context: \(Self.lastError())")
        }
        guard sprig_ssl_ctx_min_tls13(made) == 1,
              SSL_CTX_use_certificate_chain_file(made, certificate) == 1,
              SSL_CTX_use_PrivateKey_file(made, key, SSL_FILETYPE_PEM) == 1,
              SSL_CTX_check_private_key(made) == 1,
              let leaf = SSL_CTX_get0_certificate(made) else {
            let said = Self.lastError()
            SSL_CTX_free(made)
            throw ProviderError(message: "OpenSSL cannot use the run's certificate \(certificate) and key \(key): \(said)")
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(leaf, EVP_sha256(), &digest, &length) == 1 else {
            SSL_CTX_free(made)
            throw ProviderError(message: "OpenSSL cannot digest the run's certificate \(certificate): \(Self.lastError())")
        }
        context = made
        fingerprint = digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    deinit { SSL_CTX_free(context) }

    /// OpenSSL's error queue for this thread, emptied, as text.
    static func lastError() -> String {
        var lines: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            lines.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return lines.isEmpty ? "no detail" : lines.joined(separator: "; ")
    }
}
