/// The span of time a FHIR date, dateTime or instant denotes, at its precision
/// (https://hl7.org/fhir/R4/search.html#date): `2026` is the whole year, `2026-03-14T10:30:00-06:00`
/// one second. Bounds are milliseconds since 1970-01-01T00:00:00Z, both inclusive.
///
/// A value without a time zone (a date, or a dateTime missing its zone) is read as UTC, which
/// is documented behaviour of Enlace (the spec leaves it to the server).
public struct DateRange: Sendable, Equatable, Hashable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }

    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]`. Returns nil
    /// for anything else, including impossible dates (2026-02-30).
    public init?(_ text: String) {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? { decimalDigits(b, from, len) }
        guard let year = num(0, 4) else { return nil }
        var month: Int64 = 1, day: Int64 = 1
        var i = 4
        enum Precision { case year, month, day, minute, second, fraction }
        var precision = Precision.year
        if i < b.count {
            guard b[i] == 45, let m = num(i + 1, 2), (1...12).contains(m) else { return nil }
            month = m; i += 3; precision = .month
            if i < b.count {
                guard b[i] == 45, let d = num(i + 1, 2), d >= 1, d <= DateRange.daysIn(year, m) else { return nil }
                day = d; i += 3; precision = .day
            }
        }
        var seconds = (Timestamp.days(fromCivil: year, month, day)) * 86_400
        var millis: Int64 = 0
        var fractionDigits = 0
        if i < b.count {
            guard precision == .day, b[i] == 84, let h = num(i + 1, 2), h < 24, b.count > i + 3, b[i + 3] == 58, let mi = num(i + 4, 2), mi < 60 else { return nil }
            seconds += h * 3600 + mi * 60
            i += 6
            precision = .minute
            if i < b.count, b[i] == 58 {
                guard let s = num(i + 1, 2), s < 60 else { return nil }
                seconds += s; i += 3; precision = .second
                if i < b.count, b[i] == 46 {
                    i += 1
                    let start = i
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        if i - start < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                        i += 1
                    }
                    fractionDigits = i - start
                    guard fractionDigits > 0 else { return nil }
                    for _ in min(fractionDigits, 3)..<3 { millis *= 10 }
                    precision = .fraction
                }
            }
            if i < b.count {
                if b[i] == 90 {
                    i += 1
                } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), oh <= 14, b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2), om < 60 {
                    seconds -= (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
                    i += 6
                } else {
                    return nil
                }
            }
        }
        guard i == b.count else { return nil }
        let start = seconds * 1000 + millis
        let end: Int64
        switch precision {
        case .year: end = Timestamp.days(fromCivil: year + 1, 1, 1) * 86_400_000 - 1
        case .month: end = (month == 12 ? Timestamp.days(fromCivil: year + 1, 1, 1) : Timestamp.days(fromCivil: year, month + 1, 1)) * 86_400_000 - 1
        case .day: end = start + 86_400_000 - 1
        case .minute: end = start + 60_000 - 1
        case .second: end = start + 999
        case .fraction: end = fractionDigits >= 3 ? start : start + (fractionDigits == 1 ? 99 : 9)
        }
        low = start
        high = end
    }

    public static func daysIn(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
