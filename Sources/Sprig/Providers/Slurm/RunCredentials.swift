import Foundation

/// What proves a connect-back peer belongs to this run: a TLS certificate made for the run
/// (its key in a folder only this user may enter) and a random secret that stays in memory and in
/// the run's 0600 submit scripts — never on a command line.
struct RunCredentials: Sendable {
    /// The folder (mode 0700) holding `cert.pem` and `key.pem`.
    let folder: String
    /// 32 random bytes, hex.
    let secret: String

    /// ``secret`` as bytes (the HMAC key).
    var secretBytes: [UInt8] {
        var bytes: [UInt8] = []
        var index = secret.startIndex
        while index < secret.endIndex, let next = secret.index(index, offsetBy: 2, limitedBy: secret.endIndex),
              let byte = UInt8(secret[index..<next], radix: 16) {
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    var certificate: String { folder + "/cert.pem" }
    var key: String { folder + "/key.pem" }

    /// Makes the run's credentials in a new folder `<runDirectory>/connect-back.XXXXXX` (mode 0700,
    /// its own for each run, even when runs share a run directory) with the `openssl` command (an EC
    /// P-256 key and a self-signed certificate; peers pin it by fingerprint, so no CA is involved).
    /// - Throws: ``ProviderError`` naming the folder when the folder or the certificate cannot be made.
    static func make(runDirectory: String, timeout: Duration) throws -> RunCredentials {
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        } catch {
            throw ProviderError(message: "cannot create the run directory \(runDirectory): \(error.localizedDescription)")
        }
        var template = Array(((runDirectory as NSString).appendingPathComponent("connect-back.XXXXXX")).utf8CString)
        guard let created = mkdtemp(&template) else {
            throw ProviderError(message: "cannot create a private folder for the run's certificate in \(runDirectory): \(String(cString: strerror(errno)))")
        }
        let folder = String(cString: created)
        let made = try SchedulerCommand.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem", "-days", "30", "-subj", "/CN=sprig-run"],
            timeout: timeout)
        guard made.status == 0 else {
            throw ProviderError(message: "openssl could not make the run's certificate in \(folder): \(made.said)")
        }
        chmod(folder + "/key.pem", 0o600)
        return RunCredentials(folder: folder, secret: try randomHex(bytes: 32))
    }

    static func randomHex(bytes count: Int) throws -> String {
        // SystemRandomNumberGenerator reads the kernel's CSPRNG (getrandom) on Linux.
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
