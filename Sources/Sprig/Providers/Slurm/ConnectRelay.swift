import Foundation
import PythonBridge

/// A block's relay on this machine (`python -m sprig.connect_relay`): it listens for the block's
/// manager on one port of the range, and its stdin and stdout become the block's stream once the
/// manager has connected and proved the run's secret. The secret reaches it on its stdin, first.
struct ConnectRelay {
    let process: BlockProcess
    let port: Int
    let fingerprint: String

    static func start(block: Int, address: String, ports: ClosedRange<Int>, credentials: RunCredentials, heartbeat: Duration,
                      command: ManagerCommand, session: SlurmSession) throws -> ConnectRelay {
        guard let python = Python.info?.executable else { throw ProviderError(message: "block \(block): Python has not started") }
        let stderrPath = command.logFolder + "/block.stderr"
        let argv = [python, "-X", "utf8", "-m", "sprig.connect_relay", "--address", address,
                    "--ports", "\(ports.lowerBound)-\(ports.upperBound)", "--cert", credentials.certificate, "--key", credentials.key,
                    "--block", "\(block)", "--heartbeat", "\(max(0.1, heartbeat.seconds))"]
        let process: BlockProcess
        do {
            process = try startProcess(argv, stderrPath: stderrPath, environment: command.environment, host: "slurm",
                                       onReap: { _ in session.blockEnded(block: block) })
        } catch let error as ProviderError {
            throw ProviderError(message: "block \(block): cannot start its relay: \(error.message)")
        }
        do {
            try writeAll(process.input, Array("{\"secret\": \"\(credentials.secret)\"}\n".utf8))
            let line = try readLine(process.output, timeout: .seconds(10))
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "SPRIG-RELAY", let port = Int(words[1]) else {
                throw ProviderError(message: "its relay said \"\(line)\" instead of its port")
            }
            return ConnectRelay(process: process, port: port, fingerprint: String(words[2]))
        } catch {
            process.kill()
            process.reap()
            process.closeStream()
            let said = (try? String(contentsOfFile: stderrPath, encoding: .utf8))?.split(separator: "\n").suffix(2).joined(separator: " / ") ?? ""
            throw ProviderError(message: "block \(block): its relay on \(address) did not start: \(error)"
                                + (said.isEmpty ? "" : ": \(said)") + " (see \(stderrPath))")
        }
    }

    /// One line from `fd`, a byte at a time (what follows it stays unread), within `timeout`.
    private static func readLine(_ fd: Int32, timeout: Duration) throws -> String {
        var line: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ProviderError(message: "no answer within \(timeout.seconds) s") }
            let millis = Int32(max(1, Double(left.components.seconds) * 1000 + Double(left.components.attoseconds) / 1e15))
            if poll(&entry, 1, millis) <= 0 { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { throw ProviderError(message: "it exited") }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }
}
