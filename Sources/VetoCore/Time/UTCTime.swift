/// Calendar arithmetic for NumericDates in UTC, without Foundation (proleptic Gregorian,
/// Howard Hinnant's days-from-civil algorithms).
package enum UTCTime {
    /// "2024-04-06T10:40:00Z"; fractional seconds are kept to milliseconds when present.
    package static func iso8601(_ seconds: Double) -> String {
        let whole = seconds.rounded(.down)
        let fraction = seconds - whole
        let total = Int64(whole)
        var days = total / 86_400
        var secondOfDay = total % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        var text =
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        let millis = Int64((fraction * 1000).rounded())
        if millis > 0 && millis < 1000 { text += "." + pad(millis, 3) }
        return text + "Z"
    }

    /// Parses unix seconds ("1712400000", "1712400000.5") or ISO-8601 ("2024-04-06",
    /// "2024-04-06T10:40:00Z", "2024-04-06T12:40:00+02:00", "2024-04-06 10:40:00.250Z").
    package static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace()
        if let seconds = Double(trimmed) {
            return seconds.isFinite ? seconds : nil
        }
        let bytes = Array(trimmed.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += digits
            return value
        }
        func take(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), take("-"), let month = number(2), take("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = Double(days(fromCivil: year, month, day) * 86_400)
        if index == bytes.count { return seconds }
        guard take("T") || take("t") || take(" ") else { return nil }
        guard let hour = number(2), take(":"), let minute = number(2), hour < 24, minute < 60 else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if take(":") {
            guard let second = number(2), second < 61 else { return nil }
            seconds += Double(second)
            if take(".") || take(",") {
                var scale = 0.1
                var sawDigit = false
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    seconds += Double(bytes[index] - 0x30) * scale
                    scale /= 10
                    index += 1
                    sawDigit = true
                }
                guard sawDigit else { return nil }
            }
        }
        if take("Z") || take("z") { return index == bytes.count ? seconds : nil }
        guard index < bytes.count else { return seconds }  // no zone: read as UTC
        let sign: Double
        if take("+") { sign = 1 } else if take("-") { sign = -1 } else { return nil }
        guard let offsetHours = number(2) else { return nil }
        _ = take(":")
        let offsetMinutes = number(2) ?? 0
        guard index == bytes.count else { return nil }
        return seconds - sign * Double(offsetHours * 3600 + offsetMinutes * 60)
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func days(fromCivil year0: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let year = month <= 2 ? year0 - 1 : year0
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Human durations: "45 s", "41 min", "3 h 12 min", "2 d 4 h".
package enum HumanDuration {
    package static func format(_ seconds: Double) -> String {
        let total = Int64(abs(seconds).rounded())
        if total < 60 { return "\(total) s" }
        let minutes = total / 60
        if minutes < 60 {
            let rest = total % 60
            return rest == 0 || minutes >= 10 ? "\(minutes) min" : "\(minutes) min \(rest) s"
        }
        let hours = minutes / 60
        if hours < 48 {
            let rest = minutes % 60
            return rest == 0 ? "\(hours) h" : "\(hours) h \(rest) min"
        }
        let days = hours / 24
        if days < 730 {
            let rest = hours % 24
            return rest == 0 ? "\(days) d" : "\(days) d \(rest) h"
        }
        let years = days / 365
        let rest = days % 365
        return rest == 0 ? "\(years) years" : "\(years) years \(rest) d"
    }

    /// "in 41 min" or "3 h 12 min ago" for `instant` as seen from `now`.
    package static func relative(_ instant: Double, now: Double) -> String {
        let delta = instant - now
        if abs(delta) < 1 { return "now" }
        return delta > 0 ? "in \(format(delta))" : "\(format(delta)) ago"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
