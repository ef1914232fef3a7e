import FairwayCore
import Foundation

/// Inline SVG charts for the dashboard, drawn by our code (no JavaScript, no CDN). Pure: tested on their markup.
enum SpendChart {
    /// Colour-blind-safe (Okabe–Ito) and readable on white.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

    struct Series: Sendable {
        var label: String
        /// Picodollars per day (`yyyy-MM-dd`).
        var values: [String: Int64]
    }

    /// A stacked daily bar chart: one bar per day, one segment per series, a legend, and a `<title>` on every
    /// segment for screen readers and hover.
    static func stackedBars(days: [String], series: [Series], width: Int = 720, height: Int = 280) -> String {
        let top = 16, bottom = 36, left = 64, right = 12
        let plotHeight = height - top - bottom
        let totals = days.map { day in series.reduce(Int64(0)) { $0.saturatingAdding($1.values[day] ?? 0) } }
        let maximum = max(totals.max() ?? 0, 1)
        let slot = Double(width - left - right) / Double(max(days.count, 1))
        let barWidth = max(2, slot * 0.7)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height + 24 * ((series.count + 2) / 3))" role="img" \
            aria-labelledby="chart-title" class="chart"><title id="chart-title">Daily spend, \(escape(days.first ?? "")) to \(escape(days.last ?? ""))</title>
            """
        for step in 0...4 {
            let y = Double(top) + Double(plotHeight) * Double(4 - step) / 4
            let amount = Double(maximum) * Double(step) / 4 / Double(PicoDollars.perDollar)
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(format(y))\" y2=\"\(format(y))\" stroke=\"#d0d0d0\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(format(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">$\(money(amount))</text>"
        }
        for (index, day) in days.enumerated() {
            let x = Double(left) + slot * Double(index) + (slot - barWidth) / 2
            var base = Double(top + plotHeight)
            for (position, line) in series.enumerated() {
                let value = line.values[day] ?? 0
                guard value > 0 else { continue }
                let h = Double(plotHeight) * Double(value) / Double(maximum)
                base -= h
                svg += "<rect x=\"\(format(x))\" y=\"\(format(base))\" width=\"\(format(barWidth))\" height=\"\(format(max(h, 0.5)))\" "
                    + "fill=\"\(palette[position % palette.count])\"><title>\(escape(day)) · \(escape(line.label)): $\(PicoDollars.format(value))</title></rect>"
            }
            if days.count <= 16 || index % max(1, days.count / 8) == 0 {
                svg += "<text x=\"\(format(x + barWidth / 2))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">\(escape(String(day.suffix(5))))</text>"
            }
        }
        for (position, line) in series.enumerated() {
            let x = left + (position % 3) * 220, y = height + 4 + (position / 3) * 24
            svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"14\" height=\"14\" fill=\"\(palette[position % palette.count])\"/>"
            svg += "<text x=\"\(x + 20)\" y=\"\(y + 12)\" font-size=\"12\" fill=\"#111\">\(escape(String(line.label.prefix(28))))</text>"
        }
        return svg + "</svg>"
    }

    /// Paired horizontal bars (e.g. share against usage), values 0…1.
    static func pairedBars(_ rows: [(label: String, first: Double, second: Double)], firstName: String, secondName: String, width: Int = 720) -> String {
        let rowHeight = 40, left = 160
        let height = rowHeight * max(rows.count, 1) + 28
        let span = Double(width - left - 60)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(firstName)) and \(escape(secondName)) per tenant\" class=\"chart\">"
        for (index, row) in rows.enumerated() {
            let y = 8 + index * rowHeight
            svg += "<text x=\"\(left - 8)\" y=\"\(y + 18)\" text-anchor=\"end\" font-size=\"12\" fill=\"#111\">\(escape(String(row.label.prefix(22))))</text>"
            for (offset, (value, colour, name)) in [(row.first, palette[0], firstName), (row.second, palette[1], secondName)].enumerated() {
                let clamped = value.isFinite ? min(max(value, 0), 1) : 0
                svg += "<rect x=\"\(left)\" y=\"\(y + offset * 16)\" width=\"\(format(max(span * clamped, 1)))\" height=\"14\" fill=\"\(colour)\">"
                    + "<title>\(escape(row.label)) \(escape(name)): \(format(clamped * 100))%</title></rect>"
                svg += "<text x=\"\(format(Double(left) + span * clamped + 6))\" y=\"\(y + offset * 16 + 11)\" font-size=\"11\" fill=\"#333\">\(format(clamped * 100))%</text>"
            }
        }
        let legend = 8 + rows.count * rowHeight
        svg += "<rect x=\"\(left)\" y=\"\(legend)\" width=\"14\" height=\"14\" fill=\"\(palette[0])\"/><text x=\"\(left + 20)\" y=\"\(legend + 12)\" font-size=\"12\">\(escape(firstName))</text>"
        svg += "<rect x=\"\(left + 180)\" y=\"\(legend)\" width=\"14\" height=\"14\" fill=\"\(palette[1])\"/><text x=\"\(left + 200)\" y=\"\(legend + 12)\" font-size=\"12\">\(escape(secondName))</text>"
        return svg + "</svg>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func money(_ dollars: Double) -> String { dollars >= 100 ? String(format: "%.0f", dollars) : String(format: "%.2f", dollars) }
}
