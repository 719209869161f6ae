// The load generator's HTML report (--html_out): one self-contained page,
// no scripts and no external assets, so it can be archived or mailed as is.
// Per phase: the report table, latency over time (p50/p99/max of each
// second, warm-up shaded) and throughput over time; for the run: the
// latency percentile curve of every phase (x axis 1/(1-q) on a log scale,
// so the tail from p90 to p99.99 gets as much room as the body).
// Pure functions; thread-compatible.
#ifndef PA_MATCH_BENCH_LOADGEN_HTML_REPORT_H_
#define PA_MATCH_BENCH_LOADGEN_HTML_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "bench/loadgen/report.h"

namespace pamatch::loadgen {

// A line chart rendered as inline SVG.
struct LineChart {
  struct Line {
    std::string label;
    std::string color;                              // CSS colour
    std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  };
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Line> lines;
  // Custom x ticks (value, label); empty = evenly spaced round numbers.
  std::vector<std::pair<double, std::string>> x_ticks;
  // x values below this are shaded (the warm-up); <= x_min: none.
  double shade_below_x = 0;
};

// The chart as an <svg> element; an empty chart draws its axes only.
std::string RenderSvg(const LineChart& chart);

std::string HtmlReport(const RunReport& report);

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_HTML_REPORT_H_
