// report_html.cpp — DIR/index.html: the results a directory holds, as one
// self-contained page (inline style, pictures by relative path). A study is
// shown when its CSV is there; its PNG and JSON are shown when they are too.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "lmask/atomic_file.h"
#include "lmask/error.h"
#include "lmask/regular_file.h"
#include "lmask/report.h"
#include "lmask/version.h"
#include "report_studies.h"
#include "sealed_text.h"

namespace lmask {

namespace fs = std::filesystem;

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// One CSV line split into fields; quotes as csv_field writes them.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) fields.emplace_back();
    else fields.back() += c;
  }
  return fields;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// A study's CSV or JSON, as a regular file only: a FIFO put in its place
// between the listing and the read would block the report.
std::string read_file(const fs::path& path) { return read_regular_file(path.string(), study::kMaxStudyFileBytes); }

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
p { line-height: 1.45; }
img { max-width: 100%; border: 1px solid #ddd; display: block; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
nav a { margin-right: 1em; }
)";

}  // namespace

std::string csv_to_html_table(const std::string& csv) {
  std::stringstream lines(csv);
  std::string line, html = "<table>\n";
  bool header = true;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    html += "<tr>";
    for (const std::string& f : csv_fields(line)) {
      if (header) html += "<th>" + html_escape(f) + "</th>";
      else html += (is_number(f) ? "<td class=\"num\">" : "<td>") + html_escape(f) + "</td>";
    }
    html += "</tr>\n";
    header = false;
  }
  return html + "</table>\n";
}

std::string report_html(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw InputError(dir, "is not a directory");

  std::vector<const report::StudyText*> present;
  std::set<std::string> shown;  // file names the study sections show
  for (const auto& t : report::study_texts())
    if (fs::is_regular_file(root / (t.name + ".csv"), ec)) present.push_back(&t);

  std::string body;
  for (const report::StudyText* t : present) {
    body += "<section id=\"" + t->name + "\">\n<h2>" + html_escape(t->title) + "</h2>\n";
    body += "<p>" + html_escape(t->paragraph) + "</p>\n";
    const std::string png = t->name + ".png", csv = t->name + ".csv", json = t->name + ".json";
    if (fs::is_regular_file(root / png, ec)) {
      body += "<img src=\"" + html_escape(png) + "\" alt=\"" + html_escape(t->title) + "\">\n";
      shown.insert(png);
    }
    body += "<p>Table: <a href=\"" + csv + "\">" + csv + "</a></p>\n" + csv_to_html_table(read_file(root / csv));
    if (fs::is_regular_file(root / json, ec))
      body += "<details><summary>Settings and timings (<a href=\"" + json + "\">" + json + "</a>)</summary>\n<pre>" +
              html_escape(read_file(root / json)) + "</pre></details>\n";
    else
      body += "<p><em>No " + json + ": the run did not finish, or was written by another tool.</em></p>\n";
    body += "</section>\n";
  }

  // Every other picture in the directory (e.g. a trace of the mask through
  // the network), so that the page shows all the directory holds.
  std::vector<std::string> others;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && e.path().extension() == ".png" && !shown.count(name) &&
        name.find(".tmp-") == std::string::npos)
      others.push_back(name);
  }
  std::sort(others.begin(), others.end());
  if (!others.empty()) {
    body += "<section id=\"pictures\">\n<h2>Other pictures</h2>\n";
    for (const auto& name : others)
      body += "<figure><img src=\"" + html_escape(name) + "\" alt=\"" + html_escape(name) + "\"><figcaption>" +
              html_escape(name) + "</figcaption></figure>\n";
    body += "</section>\n";
  }

  std::string nav;
  for (const report::StudyText* t : present) nav += "<a href=\"#" + t->name + "\">" + html_escape(t->title) + "</a>";
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<title>lmask studies</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n"
                     "<h1>Layer masking and the other ways of removing part of an image</h1>\n"
                     "<p>Each study below compares masking methods on the same images, patch orders, segmentations "
                     "and LIME perturbations (one seed drives them all), so the differences between methods are "
                     "paired. Written by lmask " + html_escape(version()) + " from the files in this directory.</p>\n";
  if (present.empty())
    page += "<p><strong>No study results here yet.</strong> Run <code>lmask study removal|leakage|lime|linearity "
            "--out DIR</code> to fill this directory.</p>\n";
  else
    page += "<nav>" + nav + "</nav>\n";
  return page + body + "</body>\n</html>\n";
}

std::string write_report(const std::string& dir) {
  const std::string html = report_html(dir);
  const std::string path = (fs::path(dir) / "index.html").string();
  write_text_atomically(path, html);
  return path;
}

}  // namespace lmask
