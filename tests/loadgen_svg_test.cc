// The load generator's inline SVG charts (bench/loadgen/html_report.h).
#include <string>

#include "absl/strings/match.h"
#include "bench/loadgen/html_report.h"
#include "gtest/gtest.h"

namespace pamatch::loadgen {
namespace {

TEST(LoadgenSvgTest, DrawsEachLineWithItsLegendAndEscapesText) {
  LineChart chart;
  chart.title = "p99 <search> & health";
  chart.lines.push_back({"p50", "#123456", {{0, 1}, {1, 2}, {2, 3}}});
  chart.lines.push_back({"p99", "#654321", {{0, 2}, {1, 4}}});
  chart.shade_below_x = 1;
  const std::string svg = RenderSvg(chart);
  EXPECT_TRUE(
      absl::StartsWith(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(absl::EndsWith(svg, "</svg>\n"));
  EXPECT_TRUE(absl::StrContains(svg, "p99 &lt;search&gt; &amp; health"));
  EXPECT_TRUE(absl::StrContains(svg, "stroke=\"#123456\""));
  EXPECT_TRUE(absl::StrContains(svg, "stroke=\"#654321\""));
  EXPECT_TRUE(absl::StrContains(svg, "warm-up"));
  EXPECT_FALSE(absl::StrContains(svg, "nan"));
  // Empty charts still render (axes only), without dividing by zero.
  const std::string empty = RenderSvg(LineChart());
  EXPECT_FALSE(absl::StrContains(empty, "nan"));
  EXPECT_FALSE(absl::StrContains(empty, "inf"));
}

}  // namespace
}  // namespace pamatch::loadgen
