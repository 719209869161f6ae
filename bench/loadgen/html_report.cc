#include "bench/loadgen/html_report.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace pamatch::loadgen {
namespace {

constexpr double kWidth = 720, kHeight = 300;
constexpr double kLeft = 64, kRight = 150, kTop = 28, kBottom = 44;
// The percentile curve's x axis ends at p99.999: beyond it a run of
// minutes has too few calls for the number to mean anything.
constexpr double kMaxNines = 5;

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                               "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

std::string Escape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A round step (1, 2 or 5 times a power of ten) giving about `count` ticks.
double NiceStep(double span, int count) {
  if (span <= 0) return 1;
  const double raw = span / count;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string TickLabel(double value) { return absl::StrFormat("%g", value); }

}  // namespace

std::string RenderSvg(const LineChart& chart) {
  // Both axes start at 0: every x (seconds, nines) and y (ms, calls/s) is
  // non-negative, and a zero baseline keeps the lines honest.
  double x_min = 0, x_max = 0, y_max = 0;
  for (const auto& line : chart.lines) {
    for (const auto& [x, y] : line.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  for (const auto& [x, label] : chart.x_ticks) x_max = std::max(x_max, x);
  if (x_max <= x_min) x_max = x_min + 1;
  const double y_step = NiceStep(y_max > 0 ? y_max : 1, 5);
  y_max = y_step * std::ceil((y_max > 0 ? y_max : 1) / y_step);
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) {
    return kLeft + (x - x_min) / (x_max - x_min) * plot_w;
  };
  auto py = [&](double y) { return kTop + plot_h - y / y_max * plot_h; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
      "viewBox=\"0 0 %g %g\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%g\" y=\"16\" font-size=\"13\" "
      "font-weight=\"bold\">%s</text>\n",
      kWidth, kHeight, kWidth, kHeight, kLeft, Escape(chart.title));
  if (chart.shade_below_x > x_min) {
    const double to = std::min(chart.shade_below_x, x_max);
    absl::StrAppendFormat(
        &svg,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
        "fill=\"#eeeeee\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#888\">"
        "warm-up</text>\n",
        px(x_min), kTop, px(to) - px(x_min), plot_h, px(x_min) + 4, kTop + 12);
  }
  // Axes, grid and ticks.
  for (double y = 0; y <= y_max + y_step / 2; y += y_step) {
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#ddd\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
        kLeft, kLeft + plot_w, py(y), py(y), kLeft - 6, py(y) + 4,
        TickLabel(y));
  }
  std::vector<std::pair<double, std::string>> x_ticks = chart.x_ticks;
  if (x_ticks.empty()) {
    const double step = NiceStep(x_max - x_min, 8);
    for (double x = std::ceil(x_min / step) * step; x <= x_max + 1e-9;
         x += step) {
      x_ticks.emplace_back(x, TickLabel(x));
    }
  }
  for (const auto& [x, label] : x_ticks) {
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#eee\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
        px(x), px(x), kTop, kTop + plot_h, px(x), kTop + plot_h + 15,
        Escape(label));
  }
  absl::StrAppendFormat(
      &svg,
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
      "fill=\"none\" stroke=\"#444\"/>\n"
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
      "<text transform=\"translate(14 %.1f) rotate(-90)\" "
      "text-anchor=\"middle\">%s</text>\n",
      kLeft, kTop, plot_w, plot_h, kLeft + plot_w / 2, kHeight - 8,
      Escape(chart.x_label), kTop + plot_h / 2, Escape(chart.y_label));
  // Lines and legend.
  for (size_t i = 0; i < chart.lines.size(); ++i) {
    const LineChart::Line& line = chart.lines[i];
    std::vector<std::string> points;
    for (const auto& [x, y] : line.points) {
      // Many histogram buckets land on one pixel; keep one point per pixel.
      std::string point = absl::StrFormat("%.1f,%.1f", px(x), py(y));
      if (points.empty() || points.back() != point) points.push_back(point);
    }
    absl::StrAppendFormat(
        &svg,
        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
        "points=\"%s\"/>\n"
        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
        "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
        line.color, absl::StrJoin(points, " "), kLeft + plot_w + 10,
        kLeft + plot_w + 28, kTop + 10 + 16 * i, kTop + 10 + 16 * i, line.color,
        kLeft + plot_w + 32, kTop + 14 + 16 * i, Escape(line.label));
  }
  return svg + "</svg>\n";
}

namespace {

std::string SummaryRow(absl::string_view name, const Summary& s) {
  std::vector<std::string> errors;
  for (const auto& [code, count] : s.errors) {
    errors.push_back(absl::StrCat(code, "=", count));
  }
  return absl::StrFormat(
      "<tr><td>%s</td><td>%d</td><td>%.1f</td><td>%.3f</td><td>%.3f</td>"
      "<td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%s</td></tr>\n",
      Escape(name), s.calls, s.qps, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms,
      s.max_ms, Escape(errors.empty() ? "-" : absl::StrJoin(errors, " ")));
}

std::string PhaseSection(const PhaseResult& phase) {
  const PhaseSpec& spec = phase.spec;
  std::string html = absl::StrFormat(
      "<h2>Phase %s</h2>\n<p>%s workload, %s loop, %s, %d channels, warm-up "
      "%g s, measured %.2f s.</p>\n<table>\n<tr><th>op</th><th>calls</th>"
      "<th>qps</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
      "<th>p99.9 ms</th><th>max ms</th><th>errors</th></tr>\n",
      Escape(spec.name), PhaseWorkloadName(spec.workload),
      spec.mode == LoopMode::kClosed ? "closed" : "open",
      spec.mode == LoopMode::kClosed
          ? absl::StrFormat("%d concurrent calls", spec.concurrency)
          : absl::StrFormat("%g calls/s intended", spec.rate_per_s),
      phase.channels, absl::ToDoubleSeconds(spec.warmup), phase.measured_s);
  for (int op = 0; op < OpCount(); ++op) {
    const OpStats& stats = phase.ops[op];
    if (stats.ok() + stats.failed() == 0) continue;
    html += SummaryRow(OpNames()[op], Summarize(stats, phase.measured_s));
  }
  if (spec.workload == PhaseWorkload::kSearch ||
      spec.workload == PhaseWorkload::kMixed) {
    html +=
        SummaryRow("(searches)", Summarize(SearchOps(phase), phase.measured_s));
  }
  html += SummaryRow("(all)", Summarize(AllOps(phase), phase.measured_s));
  html += "</table>\n";
  if (phase.watch.has_value()) {
    absl::StrAppend(&html, "<p>Watch: ",
                    Escape(WatchSentence(*phase.watch, phase.measured_s)),
                    ".</p>\n");
  }
  absl::StrAppend(&html, "<p>CPU: ", Escape(CpuSentence(phase)), ".</p>\n");
  if (const std::string server = ServerCpuSentence(phase); !server.empty()) {
    absl::StrAppend(&html, "<p>Server CPU: ", Escape(server), ".</p>\n");
  }
  for (const auto& [code, message] : AllOps(phase).error_examples) {
    absl::StrAppendFormat(&html, "<p>First %s: %s</p>\n", Escape(code),
                          Escape(message));
  }

  LineChart latency;
  latency.title = absl::StrCat(spec.name, ": latency over time (each second)");
  latency.x_label = "seconds since phase start";
  latency.y_label = "latency, ms";
  latency.shade_below_x = absl::ToDoubleSeconds(spec.warmup);
  LineChart::Line p50{"p50", kColors[0], {}}, p99{"p99", kColors[1], {}},
      max{"max", "#999999", {}};
  LineChart throughput;
  throughput.title = absl::StrCat(spec.name, ": throughput over time");
  throughput.x_label = latency.x_label;
  throughput.y_label = "completed calls/s";
  throughput.shade_below_x = latency.shade_below_x;
  LineChart::Line calls{"calls/s", kColors[2], {}},
      errors{"errors/s", kColors[1], {}};
  for (const SecondSample& s : phase.series) {
    const double width_s = s.end_s - s.start_s;
    p50.points.emplace_back(s.end_s, Ms(s.p50_ns));
    p99.points.emplace_back(s.end_s, Ms(s.p99_ns));
    max.points.emplace_back(s.end_s, Ms(s.max_ns));
    if (width_s <= 0) continue;
    calls.points.emplace_back(s.end_s, s.calls / width_s);
    errors.points.emplace_back(s.end_s, s.errors / width_s);
  }
  latency.lines = {max, p99, p50};
  throughput.lines = {calls, errors};
  return html + RenderSvg(latency) + RenderSvg(throughput);
}

LineChart PercentileChart(const RunReport& report) {
  LineChart chart;
  chart.title = "Latency by percentile (successful calls, measured)";
  chart.x_label = "percentile";
  chart.y_label = "latency, ms";
  const char* const kTickLabels[] = {"0",    "90",    "99",
                                     "99.9", "99.99", "99.999"};
  for (int nines = 0; nines <= kMaxNines; ++nines) {
    chart.x_ticks.emplace_back(nines, kTickLabels[nines]);
  }
  size_t color = 0;
  for (const PhaseResult& phase : report.phases) {
    OpStats stats = PrimaryOps(phase);
    LineChart::Line line{
        absl::StrCat(phase.spec.name,
                     phase.spec.workload == PhaseWorkload::kHealth
                         ? ""
                         : absl::StrCat(" ", PrimaryLabel(phase.spec.workload))),
        kColors[color++ % std::size(kColors)],
        {}};
    // x = log10(1 / (1 - q)): p90 -> 1, p99 -> 2. Each bucket is a step:
    // its value holds from the previous fraction up to its own.
    double previous_x = 0;
    for (const auto& point : stats.latency.Cdf()) {
      const double x =
          std::min(kMaxNines, -std::log10(std::max(1e-12, 1 - point.fraction)));
      const double ms = Ms(point.value_ns);
      line.points.emplace_back(previous_x, ms);
      line.points.emplace_back(x, ms);
      previous_x = x;
    }
    chart.lines.push_back(std::move(line));
  }
  return chart;
}

}  // namespace

std::string HtmlReport(const RunReport& report) {
  std::string html = absl::StrFormat(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<title>pa-match-loadgen report</title>\n<style>"
      "body{font-family:sans-serif;margin:2em;max-width:60em}"
      "table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
      "td:first-child,th:first-child{text-align:left}"
      "svg{display:block;margin:1em 0}</style></head><body>\n"
      "<h1>pa-match-loadgen report</h1>\n<p>Server %s, started %s.<br>"
      "<code>%s</code></p>\n",
      Escape(report.server), Escape(report.started_at),
      Escape(report.command_line));
  const Ratios ratios = ComputeRatios(report);
  if (report.rounds > 1) {
    absl::StrAppendFormat(&html,
                          "<p>%d rounds of the phases; each ratio below is "
                          "the median of the rounds' (every round's is in "
                          "the JSON report).</p>\n",
                          report.rounds);
  }
  if (ratios.search_qps_over_health_qps.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>Search throughput / Health/Check throughput: "
                          "<b>%.3f</b> (target &ge; 0.5).</p>\n",
                          *ratios.search_qps_over_health_qps);
  }
  if (ratios.search_cpu_over_health_cpu.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>Machine CPU per search / per Health/Check call: "
                          "<b>%.3f</b>.</p>\n",
                          *ratios.search_cpu_over_health_cpu);
  }
  if (ratios.search_server_cpu_over_health_server_cpu.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>Server CPU per search / per Health/Check call: "
                          "<b>%.3f</b> (target &le; 2).</p>\n",
                          *ratios.search_server_cpu_over_health_server_cpu);
  }
  if (!ratios.server_cpu_over_health.empty()) {
    html += "<p>Server CPU per call, in Health/Check calls:";
    for (const auto& [name, ratio] : ratios.server_cpu_over_health) {
      absl::StrAppendFormat(&html, " %s <b>%.2fx</b>;", Escape(name), ratio);
    }
    html.back() = '.';
    html += "</p>\n";
  }
  if (ratios.mixed_search_p99_over_search_p99.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>Search p99 with writes / read-only search p99: "
                          "<b>%.3f</b> (target &le; 2).</p>\n",
                          *ratios.mixed_search_p99_over_search_p99);
  }
  if (ratios.match_jobs_qps_over_search_qps.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>MatchJobs throughput / search throughput: "
                          "<b>%.3f</b>.</p>\n",
                          *ratios.match_jobs_qps_over_search_qps);
  }
  if (ratios.watch_writes_qps_over_writes_qps.has_value()) {
    absl::StrAppendFormat(&html,
                          "<p>Profile writes/s with Watch streams open / "
                          "without: <b>%.3f</b>.</p>\n",
                          *ratios.watch_writes_qps_over_writes_qps);
  }
  const Workload::WriteTally& w = report.writes;
  if (w.job_upserts_ok + w.job_deletes_ok > 0) {
    absl::StrAppendFormat(&html,
                          "<p>Job writes: %d upserts and %d deletes "
                          "succeeded; %d job ids of this run are still "
                          "live.</p>\n",
                          w.job_upserts_ok, w.job_deletes_ok, w.live_job_ids);
  }
  if (w.upserts_ok + w.deletes_ok > 0) {
    absl::StrAppendFormat(&html,
                          "<p>Writes: %d upserts and %d deletes succeeded; %d "
                          "ids of this run are still live.</p>\n",
                          w.upserts_ok, w.deletes_ok, w.live_ids);
  }
  html += RenderSvg(PercentileChart(report));
  for (const PhaseResult& phase : report.phases) html += PhaseSection(phase);
  return html + "</body></html>\n";
}

}  // namespace pamatch::loadgen
