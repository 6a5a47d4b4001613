// The visual report (--report FILE.html): one self-contained page, inline SVG and CSS, no
// script and no network. A summary card with the headline figures and gates, real-vs-synthetic
// overlays per column, a heat map of pair-trend scores, and the tree detector's most telling
// columns.

import Foundation

public enum HTMLReport {
  static let realColor = "#3b6fb6"
  static let syntheticColor = "#e07b39"

  /// The page for `report`, drawing distributions from `tables`.
  public static func render(_ report: ScoreReport, tables: ScoreTables) -> String {
    var html = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <title>tab-score: \(escape(report.synthetic.path))</title>
      <style>
      body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
      main{max-width:1180px;margin:0 auto;padding:24px}
      h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 10px}
      .sub{color:#5b6475;margin:0 0 18px}
      .card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 18px}
      .verdict{display:inline-block;font-weight:600;border-radius:14px;padding:2px 12px;margin-left:8px;font-size:13px}
      .pass{background:#dff3e4;color:#17692f} .fail{background:#fbe0dd;color:#a2231a} .none{background:#e8eaee;color:#4a5263}
      .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px;margin-top:12px}
      .figure{border:1px solid #e3e6eb;border-radius:8px;padding:10px 12px}
      .figure .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
      .figure .l{color:#5b6475;font-size:12.5px} .figure .g{font-size:12px;margin-top:2px}
      .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:12px}
      .col h3{font-size:13.5px;margin:0 0 2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
      .col .s{font-size:12px;color:#5b6475}
      .legend span{display:inline-block;width:11px;height:11px;border-radius:2px;margin:0 5px 0 12px;vertical-align:-1px}
      .two{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:12px}
      table{border-collapse:collapse;font-size:13px} td{padding:3px 10px 3px 0}
      footer{color:#7a8292;font-size:12px;margin-top:24px}
      </style></head><body><main>
      <h1>Synthetic table report\(verdict(report))</h1>
      <p class="sub">\(escape(report.synthetic.path)) (\(report.synthetic.rows) rows) against \(escape(report.real.path)) (\(report.real.rows) rows)\(report.holdout.map { ", holdout \(escape($0.path)) (\($0.rows) rows)" } ?? ""), \(tables.width) columns, seed \(report.seed).</p>

      """
    html += summaryCard(report)
    let notes = findings(report)
    if !notes.isEmpty {
      html +=
        "<div class=\"card\" style=\"margin-top:12px\"><b>Findings</b><ul style=\"margin:6px 0 0;padding-left:20px\">"
      html += notes.map { "<li>\($0)</li>" }.joined() + "</ul></div>\n"
    }
    html +=
      "<h2>Column shapes<span class=\"legend\"><span style=\"background:\(realColor)\"></span>real<span style=\"background:\(syntheticColor)\"></span>synthetic</span></h2>\n<div class=\"grid\">\n"
    let order = (0..<tables.width).sorted { report.shapes[$0].score < report.shapes[$1].score }
    for c in order { html += columnPanel(report.shapes[c], tables: tables, column: c) }
    html += "</div>\n<h2>Column pair trends and detection</h2>\n<div class=\"two\">\n"
    html += "<div class=\"card\">\(heatMap(report, tables: tables))</div>\n"
    html += "<div class=\"card\">\(telling(report))\(details(report))</div>\n</div>\n"
    html +=
      "<footer>tabpipe \(escape(report.tabpipeVersion)) · tab-score · computed in \(String(format: "%.1f", report.seconds)) s. "
    html +=
      "Definitions: docs/metrics.md. Scores are in [0, 1]; ↑ higher is better, ↓ lower is better.</footer>\n</main></body></html>\n"
    return html
  }

  /// A few plain sentences on what stands out (HTML, already escaped).
  static func findings(_ report: ScoreReport) -> [String] {
    var notes: [String] = []
    if let worst = report.shapes.min(by: { $0.score < $1.score }), worst.score < 0.98 {
      notes.append(
        "Column <b>\(escape(worst.column))</b> differs most in distribution (\(worst.metric == "KSComplement" ? "1 − KS" : "1 − TV") = \(fmt(worst.score)))."
      )
    }
    if let worst = report.trends.filter({ !$0.score.isNaN }).min(by: { $0.score < $1.score }),
      worst.score < 0.95
    {
      notes.append(
        "The dependence between <b>\(escape(worst.first))</b> and <b>\(escape(worst.second))</b> is reproduced worst (score \(fmt(worst.score)))."
      )
    }
    if let trees = report.detection.first(where: { $0.detector == "xgboost" }) {
      let top = trees.telling.prefix(3).filter { $0.share > 0.05 }.map {
        "<b>\(escape($0.column))</b>"
      }
      if trees.auc > 0.8 {
        notes.append(
          "A tree model tells synthetic rows from real ones (AUC \(fmt(trees.auc)))"
            + (top.isEmpty ? "." : ", mostly through \(top.joined(separator: ", ")).")
            + (report.detection.first { $0.detector == "logistic" }.map {
              $0.auc < 0.6
                ? " The logistic detector cannot (AUC \(fmt($0.auc))): each column alone looks right, their combinations do not."
                : ""
            } ?? ""))
      } else if trees.auc < 0.6 {
        notes.append("Neither detector tells the tables apart well (tree AUC \(fmt(trees.auc))).")
      }
    }
    if let u = report.utility {
      let gap = u.higherIsBetter ? u.real - u.synthetic : u.synthetic - u.real
      notes.append(
        "A model trained on synthetic rows predicts <b>\(escape(u.target))</b> with \(u.metric) \(fmt(u.synthetic)), against \(fmt(u.real)) trained on real rows"
          + (gap > 0.05 ? ": a clear loss of utility." : "."))
    }
    if let p = report.privacy {
      if p.exactCopies > 0 {
        notes.append(
          "<b>\(pct(p.exactCopies))</b> of synthetic rows are exact copies of training rows.")
      }
      if let share = p.dcrShare, let ideal = p.dcrIdeal, share > ideal + 0.05 {
        notes.append(
          "Synthetic rows sit closer to the training rows than to the holdout (DCR share \(fmt(share)), ideal \(fmt(ideal))): a sign of memorisation."
        )
      }
    }
    return notes
  }

  static func verdict(_ report: ScoreReport) -> String {
    if report.gates.isEmpty { return "<span class=\"verdict none\">no gates</span>" }
    let failed = report.gates.filter { !$0.passed }.count
    return failed == 0
      ? "<span class=\"verdict pass\">all \(report.gates.count) gates pass</span>"
      : "<span class=\"verdict fail\">\(failed) of \(report.gates.count) gates fail</span>"
  }

  static func summaryCard(_ report: ScoreReport) -> String {
    var html = "<div class=\"card\"><div class=\"figures\">\n"
    for figure in report.headline {
      let gate = report.gates.first { $0.name == figure.name }
      var gateText = ""
      if let gate {
        gateText =
          "<div class=\"g \(gate.passed ? "pass" : "fail")\" style=\"background:none\">\(gate.passed ? "✔ pass" : "✘ fail"): \(gate.relation) \(fmt(gate.bound))</div>"
      }
      let color = gate.map { $0.passed ? "#17692f" : "#a2231a" } ?? "#1d2330"
      html +=
        "<div class=\"figure\"><div class=\"l\">\(escape(figure.label)) \(figure.higherIsBetter ? "↑" : "↓")</div>"
      html += "<div class=\"v\" style=\"color:\(color)\">\(fmt(figure.value))</div>"
      if figure.higherIsBetter && figure.value >= 0 && figure.value <= 1 {
        html += bar(figure.value, color: gate == nil ? "#8aa4c8" : color)
      }
      html += "\(gateText)<div class=\"l\">[\(figure.name)]</div></div>\n"
    }
    return html + "</div></div>\n"
  }

  static func bar(_ value: Double, color: String) -> String {
    let width = max(0, min(1, value)) * 180
    return
      "<svg width=\"180\" height=\"6\" role=\"img\"><rect width=\"180\" height=\"6\" rx=\"3\" fill=\"#e8eaee\"/><rect width=\"\(f1(width))\" height=\"6\" rx=\"3\" fill=\"\(color)\"/></svg>"
  }

  /// One column: histograms (numbers) or category bars, real and synthetic overlaid.
  static func columnPanel(_ shape: ColumnShape, tables: ScoreTables, column c: Int) -> String {
    let width = 270.0
    let height = 120.0
    var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height + 16))\" width=\"100%\" role=\"img\">"
    if tables.kinds[c] == .numerical {
      let real = tables.real.columns[c].values.filter { !$0.isNaN }.sorted()
      let synthetic = tables.synthetic.columns[c].values.filter { !$0.isNaN }.sorted()
      // Range: the real table's 0.5 % to 99.5 % quantiles, so a few outliers do not squash the rest.
      if let first = real.first, let last = real.last {
        var low = Quality.quantile(real, 0.005)
        var high = Quality.quantile(real, 0.995)
        if high <= low {
          low = first
          high = last
        }
        if high <= low { high = low + 1 }
        let bins = 30
        func histogram(_ values: [Double]) -> [Double] {
          var counts = [Double](repeating: 0, count: bins)
          for v in values {
            let b = Int(((v - low) / (high - low) * Double(bins)).rounded(.down))
            counts[max(0, min(bins - 1, b))] += 1
          }
          return counts.map { $0 / Double(max(values.count, 1)) }
        }
        let r = histogram(real)
        let s = histogram(synthetic)
        let top = max(r.max() ?? 0, s.max() ?? 0, 1e-12)
        let step = width / Double(bins)
        for b in 0..<bins {
          let h = r[b] / top * (height - 4)
          svg +=
            "<rect x=\"\(f1(Double(b) * step + 0.5))\" y=\"\(f1(height - h))\" width=\"\(f1(step - 1))\" height=\"\(f1(h))\" fill=\"\(realColor)\" fill-opacity=\".55\"/>"
        }
        var path = "M0,\(f1(height))"
        for b in 0..<bins {
          let y = height - s[b] / top * (height - 4)
          path += " L\(f1(Double(b) * step)),\(f1(y)) L\(f1(Double(b + 1) * step)),\(f1(y))"
        }
        path += " L\(f1(width)),\(f1(height))"
        svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(syntheticColor)\" stroke-width=\"2\"/>"
        svg +=
          "<text x=\"0\" y=\"\(Int(height + 13))\" font-size=\"10.5\" fill=\"#5b6475\">\(escape(short(low)))</text>"
        svg +=
          "<text x=\"\(Int(width))\" y=\"\(Int(height + 13))\" font-size=\"10.5\" fill=\"#5b6475\" text-anchor=\"end\">\(escape(short(high)))</text>"
      }
    } else {
      let labels = tables.labels[c]
      var real = [Double](repeating: 0, count: labels.count)
      var synthetic = real
      for code in tables.real.columns[c].codes { real[Int(code)] += 1 }
      for code in tables.synthetic.columns[c].codes { synthetic[Int(code)] += 1 }
      real = real.map { $0 / Double(tables.real.rows) }
      synthetic = synthetic.map { $0 / Double(tables.synthetic.rows) }
      let shown = Array(
        labels.indices.sorted { real[$0] + synthetic[$0] * 1e-3 > real[$1] + synthetic[$1] * 1e-3 }
          .prefix(12))
      let top = max(shown.map { max(real[$0], synthetic[$0]) }.max() ?? 0, 1e-12)
      let slot = width / Double(max(shown.count, 1))
      let barWidth = min(14, slot * 0.4)
      for (i, k) in shown.enumerated() {
        let x = Double(i) * slot + slot / 2
        let hr = real[k] / top * (height - 4)
        let hs = synthetic[k] / top * (height - 4)
        let tip = "\(labels[k]): real \(pct(real[k])), synthetic \(pct(synthetic[k]))"
        svg += "<g><title>\(escape(tip))</title>"
        svg +=
          "<rect x=\"\(f1(x - barWidth))\" y=\"\(f1(height - hr))\" width=\"\(f1(barWidth))\" height=\"\(f1(hr))\" fill=\"\(realColor)\"/>"
        svg +=
          "<rect x=\"\(f1(x))\" y=\"\(f1(height - hs))\" width=\"\(f1(barWidth))\" height=\"\(f1(hs))\" fill=\"\(syntheticColor)\"/></g>"
        if shown.count <= 8 {
          svg +=
            "<text x=\"\(f1(x))\" y=\"\(Int(height + 13))\" font-size=\"10\" fill=\"#5b6475\" text-anchor=\"middle\">\(escape(String(labels[k].prefix(Int(slot / 6)))))</text>"
        }
      }
      if labels.count > shown.count {
        svg +=
          "<text x=\"\(Int(width))\" y=\"10\" font-size=\"10\" fill=\"#7a8292\" text-anchor=\"end\">top 12 of \(labels.count)</text>"
      }
    }
    svg +=
      "<line x1=\"0\" x2=\"\(Int(width))\" y1=\"\(Int(height))\" y2=\"\(Int(height))\" stroke=\"#c9ced6\"/></svg>"
    let missing =
      shape.realMissing > 0 || shape.syntheticMissing > 0
      ? String(
        format: " · missing %.1f%% / %.1f%%", 100 * shape.realMissing, 100 * shape.syntheticMissing)
      : ""
    return """
      <div class="card col"><h3 title="\(escape(shape.column))">\(escape(shape.column))</h3><div class="s">\(shape.metric == "KSComplement" ? "1 − KS" : "1 − TV") = <b style="color:\(scoreColor(shape.score))">\(fmt(shape.score))</b>\(missing)</div>\(svg)</div>

      """
  }

  /// Heat map of pair-trend scores; red where real and synthetic disagree.
  static func heatMap(_ report: ScoreReport, tables: ScoreTables) -> String {
    let n = tables.width
    let label = 120.0
    let cell = min(26.0, 520.0 / Double(max(n, 1)))
    let size = label + cell * Double(n)
    var score = [[Double]](repeating: [Double](repeating: .nan, count: n), count: n)
    for t in report.trends {
      if let a = tables.index(of: t.first), let b = tables.index(of: t.second) {
        score[a][b] = t.score
        score[b][a] = t.score
      }
    }
    var svg =
      "<div style=\"font-weight:600;margin-bottom:6px\">Pair-trend scores (1 = same dependence as real)</div>"
    svg += "<svg viewBox=\"0 0 \(Int(size + 8)) \(Int(size + 30))\" width=\"100%\" role=\"img\">"
    for i in 0..<n {
      let y = label + Double(i) * cell
      svg +=
        "<text x=\"\(f1(label - 4))\" y=\"\(f1(y + cell * 0.68))\" font-size=\"\(f1(min(11, cell * 0.5)))\" text-anchor=\"end\" fill=\"#333\">\(escape(String(tables.names[i].prefix(18))))</text>"
      svg +=
        "<text transform=\"translate(\(f1(y + cell * 0.68)),\(f1(label - 4))) rotate(-55)\" font-size=\"\(f1(min(11, cell * 0.5)))\" fill=\"#333\">\(escape(String(tables.names[i].prefix(18))))</text>"
      for j in 0..<n {
        let x = label + Double(j) * cell
        let value = score[i][j]
        let fill = i == j ? "#f0f1f4" : value.isNaN ? "#dde0e6" : heatColor(value)
        let tip =
          i == j ? tables.names[i] : "\(tables.names[i]) × \(tables.names[j]): \(fmt(value))"
        svg +=
          "<rect x=\"\(f1(x))\" y=\"\(f1(y))\" width=\"\(f1(cell - 1))\" height=\"\(f1(cell - 1))\" fill=\"\(fill)\"><title>\(escape(tip))</title></rect>"
      }
    }
    // Legend: 0.7 .. 1.
    let legendY = size + 10
    for k in 0..<30 {
      let v = 0.7 + 0.3 * Double(k) / 29
      svg +=
        "<rect x=\"\(f1(label + Double(k) * 6))\" y=\"\(f1(legendY))\" width=\"6\" height=\"10\" fill=\"\(heatColor(v))\"/>"
    }
    svg +=
      "<text x=\"\(f1(label - 4))\" y=\"\(f1(legendY + 9))\" font-size=\"10\" text-anchor=\"end\">≤ 0.70</text>"
    svg +=
      "<text x=\"\(f1(label + 184))\" y=\"\(f1(legendY + 9))\" font-size=\"10\">1.00</text></svg>"
    return svg
  }

  /// The tree detector's most telling columns as horizontal bars.
  static func telling(_ report: ScoreReport) -> String {
    guard let trees = report.detection.first(where: { $0.detector == "xgboost" }) else { return "" }
    let top = trees.telling.prefix(8).filter { $0.share > 0 }
    var html =
      "<div style=\"font-weight:600;margin-bottom:6px\">What gives the synthetic rows away</div>"
    html +=
      "<div class=\"s\" style=\"color:#5b6475;font-size:12.5px;margin-bottom:6px\">Share of the tree detector's split gain per column (detector AUC \(fmt(trees.auc)); 0.5 = cannot tell).</div>"
    html += "<svg viewBox=\"0 0 400 \(top.count * 22 + 4)\" width=\"100%\" role=\"img\">"
    let most = top.first?.share ?? 1
    for (i, t) in top.enumerated() {
      let y = Double(i) * 22
      let w = t.share / max(most, 1e-12) * 220
      html +=
        "<text x=\"130\" y=\"\(f1(y + 14))\" font-size=\"12\" text-anchor=\"end\">\(escape(String(t.column.prefix(20))))</text>"
      html +=
        "<rect x=\"136\" y=\"\(f1(y + 3))\" width=\"\(f1(w))\" height=\"15\" rx=\"2\" fill=\"#8c5bb8\"/>"
      html +=
        "<text x=\"\(f1(140 + w))\" y=\"\(f1(y + 14))\" font-size=\"11.5\" fill=\"#444\">\(pct(t.share))</text>"
    }
    return html + "</svg>"
  }

  /// Utility and privacy details as a small table.
  static func details(_ report: ScoreReport) -> String {
    var rows: [(String, String)] = []
    for d in report.detection {
      rows.append(("\(d.detector == "logistic" ? "Logistic" : "XGBoost") detector AUC", fmt(d.auc)))
    }
    if let u = report.utility {
      rows.append(("Target", "\(u.target) (\(u.task))"))
      rows.append(("\(u.metric), trained on synthetic", fmt(u.synthetic)))
      rows.append(("\(u.metric), trained on real", fmt(u.real)))
    }
    if let p = report.privacy {
      if let share = p.dcrShare, let ideal = p.dcrIdeal {
        rows.append(("DCR share (ideal \(fmt(ideal)))", fmt(share)))
      }
      rows.append(("Exact copies of training rows", pct(p.exactCopies)))
      rows.append(("NNDR mean / 5th percentile", "\(fmt(p.nndrMean)) / \(fmt(p.nndrLow))"))
      rows.append(("Median distance to closest record", fmt(p.medianDistance)))
    }
    if rows.isEmpty { return "" }
    return "<div style=\"font-weight:600;margin:14px 0 4px\">Utility and privacy</div><table>"
      + rows.map { "<tr><td>\(escape($0.0))</td><td><b>\(escape($0.1))</b></td></tr>" }.joined()
      + "</table>"
  }

  // MARK: formatting

  static func heatColor(_ value: Double) -> String {
    // 1 → pale green, 0.85 → amber, ≤ 0.7 → red.
    let t = max(0, min(1, (1 - value) / 0.3))
    let stops: [(Double, (Double, Double, Double))] = [
      (0, (226, 243, 230)), (0.5, (247, 199, 110)), (1, (200, 50, 40)),
    ]
    let (a, b) = t <= 0.5 ? (stops[0], stops[1]) : (stops[1], stops[2])
    let u = (t - a.0) / (b.0 - a.0)
    func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * u).rounded()) }
    return "rgb(\(mix(a.1.0, b.1.0)),\(mix(a.1.1, b.1.1)),\(mix(a.1.2, b.1.2)))"
  }

  static func scoreColor(_ value: Double) -> String {
    value >= 0.95 ? "#17692f" : value >= 0.85 ? "#9a6a00" : "#a2231a"
  }
  static func fmt(_ value: Double) -> String { value.isNaN ? "n/a" : String(format: "%.4f", value) }
  static func f1(_ value: Double) -> String { String(format: "%.1f", value) }
  static func pct(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
  static func short(_ value: Double) -> String {
    abs(value) >= 1e5 || (abs(value) < 1e-3 && value != 0)
      ? String(format: "%.3g", value) : String(format: "%.4g", value)
  }

  static func escape(_ text: String) -> String {
    var out = ""
    for ch in text {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(ch)
      }
    }
    return out
  }
}
