import FHIR
import Foundation
import Monitoring

/// A server-rendered SVG chart of one vital (no script, no CDN; presentation attributes only, as
/// the portal's CSP allows no inline style): the target band in green, the readings as a line
/// with points, the points outside the target in red and larger. 360 units wide, scaled to the
/// card (`width="100%"`), readable on a 360 px phone; `role="img"` with a title and description.
enum MonitoringChart {
    static let width = 360.0, height = 200.0
    static let left = 42.0, right = 8.0, top = 10.0, bottom = 26.0
    static let colors = ["#1f4e79", "#7a3e00"]

    static func svg(_ series: VitalSeries, from: Timestamp, to: Timestamp, name: String, description: String, lineNames: [String],
                    strings t: PortalStrings) -> String {
        let esc = HTML.escape
        let values = series.lines.flatMap { $0.points.map(\.value) }
        let bands = series.lines.compactMap(\.target).flatMap { [$0.low, $0.high].compactMap { $0 } }
        var lo = (values + bands).min() ?? 0, hi = (values + bands).max() ?? 1
        if hi - lo < 1e-9 { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.1
        lo -= pad
        hi += pad
        if (values.min() ?? 0) >= 0, lo < 0 { lo = 0 }
        let plotW = width - left - right, plotH = height - top - bottom
        let t0 = Double(from.microseconds), t1 = max(Double(to.microseconds), t0 + 1)
        func x(_ t: Timestamp) -> Double { left + (Double(t.microseconds) - t0) / (t1 - t0) * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        let id = "grafica-\(series.vital.key)"
        var out = "<svg class=\"chart\" id=\"\(id)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-labelledby=\"\(id)-t \(id)-d\" data-fuera=\"\(series.outside)\" data-lecturas=\"\(series.count)\">"
        out += "<title id=\"\(id)-t\">\(esc(name))</title><desc id=\"\(id)-d\">\(esc(description))</desc>"
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"#fafbfc\" stroke=\"#c9d1d9\"/>"
        // target bands
        for line in series.lines {
            guard let target = line.target, target.low != nil || target.high != nil else { continue }
            let bandTop = y(min(target.high ?? hi, hi)), bandBottom = y(max(target.low ?? lo, lo))
            guard bandBottom > bandTop else { continue }
            out += "<rect class=\"banda\" x=\"\(f(left))\" y=\"\(f(bandTop))\" width=\"\(f(plotW))\" height=\"\(f(bandBottom - bandTop))\" fill=\"#2e7d32\" fill-opacity=\"0.14\"/>"
            for limit in [target.low, target.high].compactMap({ $0 }) where limit > lo && limit < hi {
                out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(limit)))\" y2=\"\(f(y(limit)))\" stroke=\"#2e7d32\" stroke-dasharray=\"4 3\" stroke-width=\"1\"/>"
                out += "<text x=\"\(f(left - 4))\" y=\"\(f(y(limit) + 3))\" font-size=\"10\" text-anchor=\"end\" fill=\"#14532d\">\(esc(ObservationStats.formatShort(limit)))</text>"
            }
        }
        // axes labels: value range and dates
        out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + 8))\" font-size=\"10\" text-anchor=\"end\" fill=\"#3a4450\">\(esc(ObservationStats.formatShort(hi)))</text>"
        out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + plotH))\" font-size=\"10\" text-anchor=\"end\" fill=\"#3a4450\">\(esc(ObservationStats.formatShort(lo)))</text>"
        out += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\" font-size=\"11\" fill=\"#3a4450\">\(esc(t.date(from.description)))</text>"
        out += "<text x=\"\(f(left + plotW))\" y=\"\(f(height - 8))\" font-size=\"11\" text-anchor=\"end\" fill=\"#3a4450\">\(esc(t.date(to.description)))</text>"
        // readings
        for (n, line) in series.lines.enumerated() {
            let color = colors[n % colors.count]
            let pts = line.points.map { "\(f(x($0.time))),\(f(y($0.value)))" }.joined(separator: " ")
            if line.points.count > 1 {
                out += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>"
            }
            let label = n < lineNames.count ? lineNames[n] + " " : ""
            for p in line.points {
                let state = p.outside ? t.outOfTarget : t.inTarget
                let tip = "\(label)\(ObservationStats.formatShort(p.value)) \(line.unit) — \(t.dateTime(p.time.description)) (\(state))"
                if p.outside {
                    out += "<circle class=\"fuera\" cx=\"\(f(x(p.time)))\" cy=\"\(f(y(p.value)))\" r=\"4.5\" fill=\"#c62828\" stroke=\"#fff\" stroke-width=\"1.5\"><title>\(esc(tip))</title></circle>"
                } else {
                    out += "<circle class=\"lectura\" cx=\"\(f(x(p.time)))\" cy=\"\(f(y(p.value)))\" r=\"2.5\" fill=\"\(color)\"><title>\(esc(tip))</title></circle>"
                }
            }
        }
        return out + "</svg>"
    }
}

extension ObservationStats {
    /// A value for a chart label: whole numbers without decimals, others with one.
    static func formatShort(_ v: Double) -> String {
        abs(v - v.rounded()) < 0.05 ? String(Int(v.rounded())) : String(format: "%.1f", v)
    }
}
