import FairwayCore
import Foundation
import Hummingbird

extension DashboardRoutes {
    func overview(_ viewer: Viewer) async throws -> Response {
        let today = CivilDay(microseconds: UnixClock.microseconds())
        var periods: [[String: Any]] = []
        for (name, first) in [("Today", today), ("Last 30 days", today.adding(days: -29))] {
            let totals = try await data.totals(since: first)
            let rate = totals.requests == 0 ? 0 : Double(totals.failed) / Double(totals.requests) * 100
            periods.append([
                "name": name, "requests": String(totals.requests), "tokens": String(totals.tokens),
                "spend": "$" + PicoDollars.format(totals.costPicoUSD), "errorRate": String(format: "%.1f%%", rate),
            ])
        }
        return page("overview", title: "Overview", viewer: viewer, current: "overview", ["periods": periods])
    }

    /// The range and grouping a spend page or CSV asks for: at most 92 days, defaults the last 14.
    struct SpendQuery {
        var from: CivilDay
        var to: CivilDay
        var byModel: Bool
        var error: String?

        init(_ request: Request) {
            let query = FormDecoding.fields(request.uri.query ?? "")
            let today = CivilDay(microseconds: UnixClock.microseconds())
            to = Self.day(query["to"]) ?? today
            from = Self.day(query["from"]) ?? to.adding(days: -13)
            byModel = query["by"] == "model"
            if (query["from"].map { !$0.isEmpty } ?? false) && Self.day(query["from"]) == nil || (query["to"].map { !$0.isEmpty } ?? false) && Self.day(query["to"]) == nil {
                error = "Dates are YYYY-MM-DD."
            }
            if from > to { (from, to) = (to, from) }
            if to.daysSinceEpoch - from.daysSinceEpoch > 91 {
                from = to.adding(days: -91)
                error = "At most 92 days at a time: showing the last 92 of the range."
            }
        }

        static func day(_ text: String?) -> CivilDay? {
            guard let text, text.count == 10 else { return nil }
            let parts = text.split(separator: "-").compactMap { Int64($0) }
            guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]), (1970...9999).contains(parts[0]) else { return nil }
            let day = CivilDay(year: parts[0], month: parts[1], day: parts[2])
            return day.text == text ? day : nil
        }
    }

    func spend(_ request: Request, _ viewer: Viewer) async throws -> Response {
        let query = SpendQuery(request)
        let rows = try await data.spend(from: query.from, to: query.to, byModel: query.byModel)
        var days: [String] = []
        var day = query.from
        while day <= query.to {
            days.append(day.text)
            day = day.adding(days: 1)
        }
        var series: [String: [String: Int64]] = [:]
        for row in rows { series[row.label, default: [:]][row.day, default: 0].saturatingAdd(row.costPicoUSD) }
        let ordered = series.sorted { $0.value.values.reduce(0, +) > $1.value.values.reduce(0, +) }
            .map { SpendChart.Series(label: $0.key, values: $0.value) }
        let total = rows.reduce(Int64(0)) { $0.saturatingAdding($1.costPicoUSD) }
        return page("spend", title: "Spend", viewer: viewer, current: "spend", [
            "from": query.from.text, "to": query.to.text, "by": query.byModel ? "model" : "tenant", "byLabel": query.byModel ? "Model" : "Tenant", "byTenant": !query.byModel,
            "error": query.error ?? false, "chart": SpendChart.stackedBars(days: days, series: ordered),
            "rows": rows.map { ["day": $0.day, "label": $0.label, "requests": String($0.requests), "cost": PicoDollars.format($0.costPicoUSD)] },
            "total": PicoDollars.format(total),
        ])
    }

    func spendCSV(_ request: Request) async throws -> Response {
        let query = SpendQuery(request)
        let rows = try await data.spend(from: query.from, to: query.to, byModel: query.byModel)
        var text = "day,\(query.byModel ? "model" : "tenant"),requests,cost_usd\r\n"
        for row in rows {
            text += [row.day, row.label, String(row.requests), PicoDollars.format(row.costPicoUSD)].map(SpendRoutes.csvField).joined(separator: ",") + "\r\n"
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"fairway-spend-\(query.from.text)-\(query.to.text).csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func fairsharePage(_ viewer: Viewer) async throws -> Response {
        let state = try await fairshare.state()
        let tenants = state["tenants"] as? [[String: Any]] ?? []
        let totalUsage = tenants.reduce(0.0) { $0 + ($1["usage"] as? Double ?? 0) }
        let bars = tenants.map { tenant -> (label: String, first: Double, second: Double) in
            let usage = tenant["usage"] as? Double ?? 0
            return (tenant["name"] as? String ?? "", tenant["share"] as? Double ?? 0, totalUsage > 0 ? usage / totalUsage : 0)
        }
        return page("fairshare", title: "Fair share", viewer: viewer, current: "fairshare", [
            "mode": state["mode"] as? String ?? "", "halfLife": String(format: "%.0f", state["half_life_secs"] as? Double ?? 0),
            "chart": SpendChart.pairedBars(bars, firstName: "fair share", secondName: "share of decayed usage"),
            "tenants": tenants.map { tenant in
                [
                    "name": tenant["name"] as? String ?? "", "weight": "\(tenant["weight"] ?? "")",
                    "share": String(format: "%.1f%%", (tenant["share"] as? Double ?? 0) * 100),
                    "usage": String(format: "%.0f", tenant["usage"] as? Double ?? 0),
                ]
            },
            "deployments": (state["deployments"] as? [[String: Any]] ?? []).map { deployment in
                [
                    "name": deployment["model_name"] as? String ?? "", "inFlight": "\(deployment["in_flight"] ?? 0)",
                    "capacity": "\(deployment["max_concurrency"] ?? 0)", "waiting": "\(deployment["waiting"] ?? 0)",
                ]
            },
        ])
    }

    func keysPage(_ viewer: Viewer) async throws -> Response {
        let keys = try await data.keys()
        var tenants: [[String: Any]] = []
        for (tenant, rows) in Dictionary(grouping: keys, by: \.tenant).sorted(by: { $0.key < $1.key }) {
            tenants.append(["name": tenant, "keys": rows.map { key in
                [
                    "id": key.id, "name": key.name, "prefix": key.prefix, "created": key.created, "disabled": key.disabled,
                    "status": key.disabled ? "disabled" : (key.expired ? "expired" : "active"), "csrf": viewer.csrf,
                ] as [String: Any]
            }])
        }
        return page("keys", title: "Keys", viewer: viewer, current: "keys", ["tenants": tenants])
    }
}
