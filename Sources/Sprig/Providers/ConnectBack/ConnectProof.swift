import COpenSSL
import Foundation

/// The run's secret proved both ways over a fresh TLS connection (PROTOCOL.md, "Connect-back"):
/// the engine greets with `SPRIG-CONNECT-1\n` and a nonce; the manager's connector answers with its
/// own nonce and an HMAC-SHA256 over both, keyed by the secret and naming its block; the engine
/// checks it and answers with its own proof. The engine's role is named `relay` on the wire (the
/// name it had when a relay process did this).
struct ConnectProof: Sendable {
    static let magic = Array("SPRIG-CONNECT-1\n".utf8)
    static let nonceSize = 32
    /// How long a peer has to finish TLS and prove the secret.
    static let peerDeadline: Duration = .seconds(1)

    let secret: [UInt8]
    let block: Int

    /// Runs the engine's side on `connection`, by `deadline`.
    /// - Throws: ``ProviderError`` saying why the peer is refused.
    func verify(_ connection: TLSConnection, by deadline: ContinuousClock.Instant) throws {
        try connection.accept(by: deadline)
        var own = [UInt8](repeating: 0, count: Self.nonceSize)
        guard RAND_bytes(&own, Int32(own.count)) == 1 else { throw ProviderError(message: "OpenSSL has no random bytes") }
        try connection.writeAll(Self.magic + own, by: deadline)
        let answer = try connection.readExact(Self.nonceSize + 32, by: deadline)
        let peer = Array(answer[0..<Self.nonceSize]), proof = Array(answer[Self.nonceSize...])
        let expected = mac(role: "connector", first: own, second: peer)
        guard CRYPTO_memcmp(proof, expected, expected.count) == 0 else {
            throw ProviderError(message: "it could not prove the run's secret")
        }
        try connection.writeAll(mac(role: "relay", first: peer, second: own), by: deadline)
    }

    /// HMAC-SHA256 keyed by the secret over `SPRIG-CONNECT-1|role|block|first|second`.
    func mac(role: String, first: [UInt8], second: [UInt8]) -> [UInt8] {
        let bar = UInt8(ascii: "|")
        let message = Array("SPRIG-CONNECT-1".utf8) + [bar] + Array(role.utf8) + [bar] + Array("\(block)".utf8) + [bar] + first + [bar] + second
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), secret, Int32(secret.count), message, message.count, &out, &length)
        return Array(out.prefix(Int(length)))
    }
}
