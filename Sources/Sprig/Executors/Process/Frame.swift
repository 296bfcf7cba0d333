import Foundation

/// The frames of Sprig's manager protocol (version 4; `python/sprig/PROTOCOL.md`): a 5-byte header
/// — body length (u32, little-endian) and type (u8) — then the body.
enum FrameType: UInt8 {
    case hello = 1, helloAck = 2, tasks = 3, results = 4, heartbeat = 5, shutdown = 6, killTask = 7, stats = 8
}

struct Frame {
    let type: FrameType
    let body: [UInt8]
}

/// The protocol version this side speaks.
let managerProtocolVersion = 4

/// Little-endian encoding into a growing byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func blob(_ data: [UInt8]) {
        u32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A whole frame: header, then this buffer as the body.
    func frame(_ type: FrameType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(5 + bytes.count)
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(type.rawValue)
        out.append(contentsOf: bytes)
        return out
    }
}

/// Little-endian decoding of a frame body; every read is bounds-checked.
struct ByteReader {
    struct Truncated: Error {}
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws -> UInt8 {
        guard offset + 1 <= bytes.count else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws -> UInt32 { try integer() }
    mutating func u64() throws -> UInt64 { try integer() }
    mutating func i32() throws -> Int32 { Int32(bitPattern: try integer()) }
    mutating func f64() throws -> Double { Double(bitPattern: try integer()) }

    /// A u8 length, then that many bytes of UTF-8.
    mutating func shortText() throws -> String {
        let count = Int(try u8())
        guard offset + count <= bytes.count else { throw Truncated() }
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }

    private mutating func integer<T: FixedWidthInteger & UnsignedInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw Truncated() }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    mutating func blob() throws -> [UInt8] {
        let count = Int(try u32())
        guard offset + count <= bytes.count else { throw Truncated() }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// Reads whole frames from a file descriptor, blocking; call on a thread of its own, never holding the GIL.
final class FrameReader {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    private var start = 0
    private var end = 0

    init(fd: Int32) { self.fd = fd }

    /// The next frame, or `nil` at end of stream (the other side closed or died).
    /// - Throws: when the stream breaks mid-frame or holds an unknown frame type.
    func next() throws -> Frame? {
        guard let header = try take(5, allowEOF: true) else { return nil }
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard let type = FrameType(rawValue: header[4]) else {
            throw FrameError(message: "unknown frame type \(header[4])")
        }
        guard let body = try take(length, allowEOF: false) else { throw FrameError(message: "stream ended inside a frame") }
        return Frame(type: type, body: body)
    }

    /// Exactly `count` bytes, or `nil` at a clean end of stream (when `allowEOF`). Bytes already
    /// buffered are copied first; a large remainder is read straight into the result, which is
    /// allocated once (reading a body never costs more than its size).
    private func take(_ count: Int, allowEOF: Bool) throws -> [UInt8]? {
        var failure: FrameError? = nil
        var atEOF = false
        let out = [UInt8](unsafeUninitializedCapacity: count) { result, initialized in
            var filled = 0
            while filled < count {
                if start == end {
                    if count - filled >= buffer.count {
                        // Large: straight into the result.
                        let got = Glibc.read(fd, result.baseAddress! + filled, count - filled)
                        if got < 0 && errno == EINTR { continue }
                        if got < 0 { failure = FrameError(message: "read failed: \(String(cString: strerror(errno)))"); break }
                        if got == 0 { atEOF = true; break }
                        filled += got
                        continue
                    }
                    let got = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress, raw.count) }
                    if got < 0 && errno == EINTR { continue }
                    if got < 0 { failure = FrameError(message: "read failed: \(String(cString: strerror(errno)))"); break }
                    if got == 0 { atEOF = true; break }
                    start = 0
                    end = got
                }
                let n = min(count - filled, end - start)
                buffer.withUnsafeBytes { raw in
                    (result.baseAddress! + filled).update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: n)
                }
                start += n
                filled += n
            }
            initialized = filled
        }
        if let failure { throw failure }
        if atEOF {
            if out.isEmpty && allowEOF { return nil }
            throw FrameError(message: "stream ended inside a frame")
        }
        return out
    }
}

struct FrameError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
