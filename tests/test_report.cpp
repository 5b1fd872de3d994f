// test_report.cpp — DIR/index.html (lmask/report.h): it shows what the
// directory holds and nothing else, renders CSV as tables, and a real browser
// (headless Chromium, installed by tools/install-deps.sh) draws it with every
// picture present. A missing Chromium fails the test: it is a dependency.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/plot.h"
#include "lmask/report.h"
#include "temp_dir.h"

using namespace lmask;
using lmask::testing::TempDir;
namespace fs = std::filesystem;

using lmask::testing::slurp;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A picture a browser cannot fake: a pure magenta block on white.
constexpr std::uint8_t kMagenta[3] = {255, 0, 255};
ImageU8 marked_picture(int w, int h) {
  ImageU8 img(w, h);
  std::fill(img.rgb.begin(), img.rgb.end(), 255);
  for (int y = h / 4; y < 3 * h / 4; ++y)
    for (int x = w / 4; x < 3 * w / 4; ++x) std::copy(kMagenta, kMagenta + 3, img.pixel(x, y));
  return img;
}

// Every value of attribute `attr` (src or href) in the page.
std::vector<std::string> attribute_values(const std::string& html, const std::string& attr) {
  std::vector<std::string> out;
  const std::regex re(attr + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// A results directory as the four studies leave it, with small files.
void write_all_studies(const TempDir& dir) {
  write(dir.file("removal.csv"), "method,fraction,top1\ngrey,0,0.5\nlayer,0.5,0.25\n");
  write(dir.file("removal.json"), "{\n  \"study\": \"removal\"\n}\n");
  LineChart chart;
  chart.title = "removal";
  chart.series.push_back({"layer", {0, 0.5, 1}, {0.9, 0.5, 0.1}});
  write_png(dir.file("removal.png"), draw_line_chart(chart));
  write(dir.file("leakage.csv"), "method,condition,top1\nblack,object,0.4\n");
  write_png(dir.file("leakage.png"), marked_picture(240, 120));
  write(dir.file("lime.csv"), "method,k,top1\n\"colour:0,0,255\",1,0.5\n");
  write(dir.file("lime.json"), "{\n  \"lime_perturbations_per_s\": {\"layer\": 80}\n}\n");
  write_png(dir.file("lime.png"), marked_picture(300, 160));
  write(dir.file("linearity.csv"), "method,mean_cosine\nlayer,0.9\n");
  write_png(dir.file("linearity.png"), marked_picture(200, 100));
}

}  // namespace

TEST_CASE("report: lists the studies and pictures that exist, and only those") {
  TempDir dir("report_lists");
  SUBCASE("an empty directory says so") {
    const std::string html = report_html(dir.path.string());
    CHECK(contains(html, "No study results here yet"));
    CHECK(!contains(html, "<section"));
  }
  SUBCASE("removal with its picture, linearity without JSON, a stray picture") {
    write(dir.file("removal.csv"), "method,fraction,top1\ngrey,0,0.5\n");
    write(dir.file("removal.json"), "{\"note\": \"<b>\"}\n");
    write_png(dir.file("removal.png"), marked_picture(40, 20));
    write(dir.file("linearity.csv"), "method,mean_cosine\nlayer,0.9\n");
    write_png(dir.file("trace_layer1.png"), marked_picture(20, 20));
    write(dir.file("leakage.json"), "{}\n");  // a JSON alone is not a study result
    const std::string path = write_report(dir.path.string());
    CHECK(path == dir.file("index.html"));
    const std::string html = slurp(path);
    CHECK(html == report_html(dir.path.string()));
    CHECK(contains(html, "<section id=\"removal\">"));
    CHECK(contains(html, "<section id=\"linearity\">"));
    CHECK(!contains(html, "<section id=\"leakage\">"));
    CHECK(!contains(html, "<section id=\"lime\">"));
    CHECK(html.find("id=\"removal\"") < html.find("id=\"linearity\""));  // S1 before S4
    CHECK(contains(html, "S1 \u2014 segment removal"));
    CHECK(contains(html, "<th>method</th><th>fraction</th><th>top1</th>"));
    CHECK(contains(html, "<td>grey</td><td class=\"num\">0</td><td class=\"num\">0.5</td>"));
    CHECK(contains(html, "{&quot;note&quot;: &quot;&lt;b&gt;&quot;}"));  // the JSON, escaped
    CHECK(contains(html, "No linearity.json"));
    CHECK(attribute_values(html, "src") == std::vector<std::string>{"removal.png", "trace_layer1.png"});
    // Nothing else written: no temporaries beside the page.
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
    CHECK(files == 7);  // the six written here and index.html
  }
  SUBCASE("not a directory is one line of InputError") {
    try {
      write_report(dir.file("nowhere"));
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()) == dir.file("nowhere") + ": is not a directory");
    }
  }
}

TEST_CASE("report: CSV fields become table cells, quoted commas and markup included") {
  const std::string table = csv_to_html_table("a,b,c\n\"colour:0,0,255\",-1.5e-3,\"say \"\"<hi>\"\"\"\n,x,\n");
  CHECK(table ==
        "<table>\n<tr><th>a</th><th>b</th><th>c</th></tr>\n"
        "<tr><td>colour:0,0,255</td><td class=\"num\">-1.5e-3</td><td>say &quot;&lt;hi&gt;&quot;</td></tr>\n"
        "<tr><td></td><td>x</td><td></td></tr>\n</table>\n");
  CHECK(html_escape("a&b<'") == "a&amp;b&lt;&#39;");
}

TEST_CASE("report: the page renders in headless Chromium, every picture present") {
  const int found = std::system("command -v chromium >/dev/null 2>&1");
  REQUIRE_MESSAGE(found == 0, "chromium is not installed: tools/install-deps.sh installs it (Debian package chromium)");

  TempDir dir("report_chromium");
  write_all_studies(dir);
  const std::string page = write_report(dir.path.string());
  const std::string html = slurp(page);

  // No missing picture or linked file.
  const auto srcs = attribute_values(html, "src");
  CHECK(srcs.size() == 4);
  for (const auto& src : srcs) {
    CAPTURE(src);
    CHECK(fs::is_regular_file(dir.path / src));
    CHECK(read_image((dir.path / src).string()).width > 0);
  }
  for (const auto& href : attribute_values(html, "href"))
    if (href[0] != '#') {
      CAPTURE(href);
      CHECK(fs::is_regular_file(dir.path / href));
    }

  TempDir out("report_chromium_out");
  const std::string shot = out.file("shot.png");
  const std::string cmd = "timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir=" +
                          out.file("profile") + " --screenshot=" + shot + " --window-size=1200,2000 file://" + page +
                          " >" + out.file("log") + " 2>&1";
  const int raw = std::system(cmd.c_str());
  CAPTURE(slurp(out.file("log")));
  REQUIRE(WIFEXITED(raw));
  CHECK(WEXITSTATUS(raw) == 0);
  REQUIRE(fs::is_regular_file(shot));
  const ImageU8 img = read_image(shot);
  CHECK(img.width == 1200);
  CHECK(img.height == 2000);
  std::set<std::uint32_t> colours;
  std::size_t magenta = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const std::uint8_t* p = img.pixel(x, y);
      colours.insert(std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2]);
      magenta += p[0] > 235 && p[1] < 20 && p[2] > 235;
    }
  // Text, tables and pictures: many colours. The pictures were drawn: the
  // magenta blocks of the three marked ones (120x60 + 150x80 + 100x50 px)
  // appear, unless the page has pushed one below the window.
  CHECK(colours.size() > 50);
  CHECK(magenta >= 120 * 60);
}
