import Foundation

/// A calendar date (proleptic Gregorian, no time zone): birth dates, dose dates and the date a
/// schedule is judged on. Ages and intervals are calendar arithmetic on it (a child is 2 months
/// old on the same day of the month two months after birth, clamped to the month's last day).
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(_ year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date part of a FHIR `date` or `dateTime` (`2024-03-05`, `2024-03-05T10:00:00-06:00`);
    /// a partial date (`2024-03`, `2024`) is read as its first day. nil if it is not one.
    public init?(fhir text: String) {
        let head = text.prefix(10)
        let parts = head.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, first.count == 4, let y = Int(first) else { return nil }
        var m = 1, d = 1
        if parts.count > 1 { guard parts[1].count == 2, let v = Int(parts[1]), (1...12).contains(v) else { return nil }; m = v }
        if parts.count > 2 { guard parts[2].count == 2, let v = Int(parts[2]), v >= 1, v <= CivilDate.daysIn(y, m) else { return nil }; d = v }
        self.init(y, m, d)
    }

    /// The UTC date of an instant.
    public init(_ date: Date) {
        let days = Int(floor(date.timeIntervalSince1970 / 86_400))
        self = CivilDate(daysSince1970: days)
    }

    public init(daysSince1970 z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(m <= 2 ? y + 1 : y, m, d)
    }

    public var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public func adding(_ span: Span) -> CivilDate {
        switch span.unit {
        case .day: return CivilDate(daysSince1970: daysSince1970 + span.value)
        case .week: return CivilDate(daysSince1970: daysSince1970 + 7 * span.value)
        case .month, .year:
            let months = span.unit == .year ? 12 * span.value : span.value
            let total = year * 12 + (month - 1) + months
            let y = Int((Double(total) / 12).rounded(.down))
            let m = total - y * 12 + 1
            return CivilDate(y, m, min(day, CivilDate.daysIn(y, m)))
        }
    }

    /// Whole years from `self` to `date` (an age).
    public func years(until date: CivilDate) -> Int {
        var n = date.year - year
        if (date.month, date.day) < (month, day) { n -= 1 }
        return n
    }
}

/// A length of calendar time: an age (`2 mo`) or an interval (`4 wk`), as UCUM `d`, `wk`, `mo`, `a`.
public struct Span: Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Sendable { case day = "d", week = "wk", month = "mo", year = "a" }
    public var value: Int
    public var unit: Unit

    public init(_ value: Int, _ unit: Unit) {
        self.value = value
        self.unit = unit
    }

    public static func days(_ n: Int) -> Span { Span(n, .day) }
    public static func weeks(_ n: Int) -> Span { Span(n, .week) }
    public static func months(_ n: Int) -> Span { Span(n, .month) }
    public static func years(_ n: Int) -> Span { Span(n, .year) }

    public var description: String { "\(value) \(unit.rawValue)" }

    /// In plain words (`2 meses` / `2 months`).
    public var spoken: Localized {
        let one = value == 1
        switch unit {
        case .day: return Localized("\(value) \(one ? "día" : "días")", "\(value) \(one ? "day" : "days")")
        case .week: return Localized("\(value) \(one ? "semana" : "semanas")", "\(value) \(one ? "week" : "weeks")")
        case .month: return Localized("\(value) \(one ? "mes" : "meses")", "\(value) \(one ? "month" : "months")")
        case .year: return Localized("\(value) \(one ? "año" : "años")", "\(value) \(one ? "year" : "years")")
        }
    }
}

/// A text in Spanish (first) and English.
public struct Localized: Sendable, Hashable {
    public var es: String
    public var en: String
    public init(_ es: String, _ en: String) {
        self.es = es
        self.en = en
    }
    public func text(_ language: String) -> String { language.hasPrefix("en") ? en : es }
}
