import Foundation
import Synchronization

/// The monitoring database's times: text such as `2026-12-02 04:32:09.927601`, a local wall-clock
/// time without zone (what Python's `datetime.now()` gives and SQLAlchemy stores for a DATETIME).
///
/// Read into seconds on a wall-clock scale (as if the time were UTC): differences between two
/// times of a run are right, and the text can be written back exactly to the microsecond.
package enum MonitoringTimestamp {
    /// Seconds of `text` on the wall-clock scale; `nil` unless it is `YYYY-MM-DD HH:MM:SS`
    /// with an optional fraction (a `T` in place of the space is accepted too).
    package static func seconds(_ text: String) -> Double? {
        var text = text
        return text.withUTF8(parse)
    }

    /// The length of the text: `YYYY-MM-DD HH:MM:SS.ffffff`.
    package static let length = 26

    /// The text of a wall-clock time in seconds, with microseconds.
    package static func text(_ seconds: Double) -> String {
        String(unsafeUninitializedCapacity: length) { write(seconds, into: $0) }
    }

    /// The text for `date` in `timeZone` (the engine writes its local time, as Parsl does).
    package static func text(_ date: Date, in timeZone: TimeZone = .current) -> String {
        text(wallClock(date, in: timeZone))
    }

    /// `date` in seconds on the wall-clock scale of `timeZone`. For the current zone the offset
    /// from UTC is looked up once per quarter hour (zones change offsets only on quarter hours),
    /// so the monitoring writer and the run log do not ask Foundation for every time they write.
    package static func wallClock(_ date: Date, in timeZone: TimeZone = .current) -> Double {
        let seconds = date.timeIntervalSince1970
        guard timeZone == .current else { return seconds + Double(timeZone.secondsFromGMT(for: date)) }
        let quarter = Int64((seconds / 900).rounded(.down))
        if let offset = offsetCache.withLock({ $0.quarter == quarter ? $0.offset : nil }) { return seconds + offset }
        let offset = Double(timeZone.secondsFromGMT(for: date))
        offsetCache.withLock { $0 = (quarter, offset) }
        return seconds + offset
    }

    private static let offsetCache = Mutex<(quarter: Int64, offset: Double)>((.min, 0))

    /// Writes the text of `seconds` (wall-clock scale) into `output`, which holds at least
    /// ``length`` bytes, without allocating; returns ``length``.
    @discardableResult
    package static func write(_ seconds: Double, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let micros = Int64((seconds * 1_000_000).rounded())
        var (secondsWhole, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        if fraction < 0 { fraction += 1_000_000; secondsWhole -= 1 }
        var (daysSinceEpoch, secondOfDay) = secondsWhole.quotientAndRemainder(dividingBy: 86_400)
        if secondOfDay < 0 { daysSinceEpoch -= 1; secondOfDay += 86_400 }
        let (year, month, day) = civil(fromDays: daysSinceEpoch)
        func put(_ value: Int64, digits: Int, at start: Int) {
            var rest = value
            for index in stride(from: start + digits - 1, through: start, by: -1) {
                output[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            }
        }
        put(year, digits: 4, at: 0); output[4] = 45
        put(month, digits: 2, at: 5); output[7] = 45
        put(day, digits: 2, at: 8); output[10] = 32
        put(secondOfDay / 3600, digits: 2, at: 11); output[13] = 58
        put(secondOfDay / 60 % 60, digits: 2, at: 14); output[16] = 58
        put(secondOfDay % 60, digits: 2, at: 17); output[19] = 46
        put(fraction, digits: 6, at: 20)
        return length
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let digit = bytes[index] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
                index += 1
            }
            return value
        }
        func expect(_ characters: UInt8...) -> Bool {
            guard index < bytes.count, characters.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              expect(32, 84), let hour = number(2), expect(58), let minute = number(2), expect(58),
              let second = number(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var fraction = 0.0
        if index < bytes.count {
            guard expect(46) else { return nil }
            var scale = 0.1
            while index < bytes.count, bytes[index] &- 48 < 10 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index == bytes.count else { return nil }
        let days = self.days(fromCivil: year, month, day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01 (the inverse of `days(fromCivil:)`).
    private static func civil(fromDays count: Int64) -> (Int64, Int64, Int64) {
        let z = count + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
