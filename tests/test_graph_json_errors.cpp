// test_graph_json_errors.cpp — bad graph descriptions: each is refused with
// one InputError line that names the source and says what is wrong, never
// a crash, a hang or another exception; and the lmask_graph attribute's own
// checks in load_weights. A fuzz-style sweep cuts and corrupts a valid
// description at every byte.
#include <doctest/doctest.h>

#include <hdf5.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.h"
#include "graph_json_cases.h"
#include "lmask/error.h"
#include "lmask/graph_json.h"
#include "lmask/weights.h"
#include "temp_dir.h"

using namespace lmask;
using namespace lmask::testing;
using json = nlohmann::json;

namespace {

const char* const kSource = "model.h5";

// Reads `text` against the every-op case's weights: "" when it reads, else
// the message, checked to be one line that starts with the source.
std::string read_error(const std::string& text, const Weights& w) {
  bool other = false;
  std::string message;
  try {
    graph_from_json(text, w, kSource);
  } catch (const InputError& e) {
    message = e.what();
  } catch (...) {
    other = true;
  }
  CHECK_MESSAGE(!other, "not an InputError, for: " << text.substr(0, 200));
  if (!message.empty()) {
    CHECK_MESSAGE(message.rfind(std::string(kSource) + ": ", 0) == 0, message);
    CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
  }
  return message;
}

struct BadCase {
  const char* what;
  std::function<void(json&)> change;
  const char* message;  // what the error must say, after "model.h5: "
};

// Node `id` of the every-op case: 1 stem.conv, 2 stem.bn, 3 stem.act,
// 4 block.dw, 6 block.max, 7 block.avg, 9 block.add, 10 block.se.pool,
// 13 block.se.fc2 (linear), 23 head.fc.
json& node(json& doc, int id) { return doc["nodes"][id]; }

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
      {"not JSON", [](json& d) { d = "{"; }, "not valid JSON: "},  // replaced by the raw text below
      {"not an object", [](json& d) { d = json::array(); }, "is an array, not a graph description"},
      {"another format", [](json& d) { d["format"] = "onnx"; }, "field 'format' is the string 'onnx'; expected 'lmask-graph'"},
      {"no format", [](json& d) { d.erase("format"); }, "missing field 'format'"},
      {"a newer version", [](json& d) { d["version"] = 2; d["new_field"] = 1; },
       "graph description version 2 is newer than this lmask reads (version 1)"},
      {"version 0", [](json& d) { d["version"] = 0; }, "field 'version' is 0; expected a whole number from 1"},
      {"version as text", [](json& d) { d["version"] = "1"; }, "field 'version' is the string '1'"},
      {"an unknown top-level field", [](json& d) { d["extra"] = true; }, "unknown field 'extra'"},
      {"no nodes", [](json& d) { d["nodes"] = json::array(); }, "field 'nodes' is a list of 0; expected a list of 1..65536 nodes"},
      {"in_channels 0", [](json& d) { d["in_channels"] = 0; }, "field 'in_channels' is 0; expected a whole number in 1..65536"},
      {"an unknown op", [](json& d) { node(d, 1)["op"] = "conv3d"; }, "node 1: unknown op 'conv3d'"},
      {"a node that is not an object", [](json& d) { node(d, 2) = 7; }, "node 2: is 7; expected an object"},
      {"node 0 not the input", [](json& d) { node(d, 0) = node(d, 3); },
       "node 0 (activation 'stem.act'): is not the input; node 0 must be"},
      {"a second input", [](json& d) { node(d, 3) = node(d, 0); }, "node 3 (input ''): is a second input"},
      {"a missing field", [](json& d) { node(d, 1).erase("kernel"); },
       "node 1 (conv2d 'stem.conv'): missing field 'kernel'"},
      {"a missing name", [](json& d) { node(d, 3).erase("name"); }, "node 3: missing field 'name'"},
      {"an unknown field", [](json& d) { node(d, 1)["ceil_mode"] = false; },
       "node 1 (conv2d 'stem.conv'): unknown field 'ceil_mode'"},
      {"kernel as text", [](json& d) { node(d, 1)["kernel"] = "3"; },
       "node 1 (conv2d 'stem.conv'): field 'kernel' is the string '3'; expected a whole number in 1..4096"},
      {"a fractional stride", [](json& d) { node(d, 1)["stride"] = 1.5; }, "field 'stride' is 1.5; expected a whole number"},
      {"a huge padding", [](json& d) { node(d, 1)["padding"] = 18446744073709551615ull; },
       "field 'padding' is 18446744073709551615; expected a whole number in 0..4096"},
      {"a negative dilation", [](json& d) { node(d, 1)["dilation"] = -1; }, "field 'dilation' is -1"},
      {"ceil_mode as a number", [](json& d) { node(d, 6)["ceil_mode"] = 1; },
       "node 6 (maxpool 'block.max'): field 'ceil_mode' is 1; expected true or false"},
      {"count_include_pad missing", [](json& d) { node(d, 7).erase("count_include_pad"); },
       "node 7 (avgpool 'block.avg'): missing field 'count_include_pad'"},
      {"an unknown activation", [](json& d) { node(d, 3)["kind"] = "gelu"; },
       "node 3 (activation 'stem.act'): unknown activation 'gelu'"},
      {"eps 0", [](json& d) { node(d, 2)["eps"] = 0; }, "node 2 (batchnorm 'stem.bn'): field 'eps' is 0; expected a positive number"},
      {"eps null", [](json& d) { node(d, 2)["eps"] = nullptr; }, "field 'eps' is null"},
      {"a weight not in the file", [](json& d) { node(d, 1)["weight"] = "stem.conv.weights"; },
       "node 1 (conv2d 'stem.conv'): weight 'stem.conv.weights' is not in the weight file"},
      {"a batchnorm statistic not in the file", [](json& d) { node(d, 2)["running_var"] = "bn.var"; },
       "node 2 (batchnorm 'stem.bn'): running_var 'bn.var' is not in the weight file"},
      {"a weight of the wrong kernel", [](json& d) { node(d, 1)["kernel"] = 5; },
       "node 1 (conv2d 'stem.conv'): weight 'stem.conv.weight' has shape [8,3,3,3]; expected [O,I/groups,5,5]"},
      {"a bias of the wrong size", [](json& d) { node(d, 4)["bias"] = "head.fc.bias"; },
       "node 4 (conv2d 'block.dw'): bias 'head.fc.bias' has shape [5]; expected [8], one per output channel"},
      {"a batchnorm vector of another size", [](json& d) { node(d, 2)["running_mean"] = "block.se.fc1.bias"; },
       "running_mean 'block.se.fc1.bias' has shape [4]; expected [8]"},
      {"a conv weight as a linear weight", [](json& d) { node(d, 13)["weight"] = "stem.conv.weight"; },
       "node 13 (linear 'block.se.fc2'): weight 'stem.conv.weight' has shape [8,3,3,3]; expected [out_features,in_features]"},
      {"the weight's channels do not fit the input", [](json& d) { node(d, 4)["weight"] = "stem.conv.weight"; },
       "graph node 4 (conv2d 'block.dw'): input [1,8,8,8] has not 24 channels (at the weight file's input size 16)"},
      {"groups that do not fit", [](json& d) { node(d, 4)["groups"] = 3; }, "graph node 4 (conv2d 'block.dw'): "},
      {"an input id out of range", [](json& d) { node(d, 3)["inputs"] = json::array({99}); },
       "node 3 (activation 'stem.act'): an input is 99; expected a node id in 0..24"},
      {"a negative input id", [](json& d) { node(d, 3)["inputs"] = json::array({-1}); }, "an input is -1"},
      {"too many inputs", [](json& d) { node(d, 3)["inputs"] = json::array({1, 2}); },
       "node 3 (activation 'stem.act'): field 'inputs' is a list of 2; expected a list of 1 node ids"},
      {"an add of one input", [](json& d) { node(d, 9)["inputs"] = json::array({6}); }, "expected a list of 2 node ids"},
      {"inputs not a list", [](json& d) { node(d, 3)["inputs"] = 2; }, "field 'inputs' is 2"},
      {"a cycle", [](json& d) { node(d, 1)["inputs"] = json::array({3}); }, "graph node 1 ('stem.conv'): is on a cycle"},
      {"a self loop", [](json& d) { node(d, 3)["inputs"] = json::array({3}); }, "graph node 3 ('stem.act'): is on a cycle"},
      {"an output out of range", [](json& d) { d["output"] = 25; }, "field 'output' is 25; expected a node id in 0..24"},
      {"features as text", [](json& d) { d["features"] = "fc"; }, "field 'features' is the string 'fc'"},
      {"a stage without its node", [](json& d) { d["stages"][0] = json::array({"stem"}); }, "field 'stages' holds an array"},
      {"shapes that do not fit", [](json& d) { node(d, 9)["inputs"] = json::array({6, 0}); },
       "graph node 9 (add 'block.add'): second operand [1,3,16,16] != [1,8,8,8]"},
  };
  return cases;
}

}  // namespace

TEST_CASE("graph json errors: each bad description is one line naming the source and the problem") {
  const Graph g = every_op_graph(random_tensors(600));
  REQUIRE(g.size() == 25);
  const Weights w = weights_of(g);
  const std::string good = graph_to_json(g);
  CHECK(read_error(good, w).empty());
  for (const BadCase& c : bad_cases()) {
    const std::string what = c.what;
    CAPTURE(what);
    json doc = json::parse(good);
    c.change(doc);
    const std::string text = what == "not JSON" ? good.substr(0, 40) : doc.dump();
    const std::string message = read_error(text, w);
    CHECK_MESSAGE(message.find(c.message) != std::string::npos, "message: " << message);
  }
}

TEST_CASE("graph json errors: a description cut at any byte, or with any byte changed, fails cleanly") {
  const Graph g = every_op_graph(random_tensors(700));
  const Weights w = weights_of(g);
  const std::string good = graph_to_json(g);
  // Every cut before the closing brace is refused; the rest (the brace, the newline) reads.
  const std::size_t close = good.rfind('}');
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const std::string message = read_error(good.substr(0, cut), w);
    if (cut <= close) CHECK_MESSAGE(!message.empty(), "cut at " << cut);
  }
  // Each byte replaced by one of a few that change its meaning: refused or read, nothing else.
  int refused = 0;
  for (std::size_t at = 0; at < good.size(); ++at)
    for (char b : {'0', '9', '-', '"', '{', ']', ',', '\0', '\xff'}) {
      std::string text = good;
      text[at] = b;
      refused += !read_error(text, w).empty();
    }
  MESSAGE(refused << " of " << good.size() * 9 << " one-byte changes refused");
  CHECK(refused > 0);
}

TEST_CASE("graph json errors: graph_from_description names the file and its attribute") {
  const Graph g = every_op_graph(random_tensors(800));
  Weights w = weights_of(g);
  w.path = "net.h5";
  json doc = json::parse(graph_to_json(g));
  node(doc, 1)["op"] = "conv3d";
  w.graph_json = doc.dump();
  CHECK(error_of([&] { graph_from_description(w); }) == "net.h5: attribute 'lmask_graph': node 1: unknown op 'conv3d'");
  // A name with a newline or an escape stays on one line.
  doc = json::parse(graph_to_json(g));
  node(doc, 3)["kind"] = "relu\n\x1b[2J";
  w.graph_json = doc.dump();
  CHECK(error_of([&] { graph_from_description(w); }) ==
        "net.h5: attribute 'lmask_graph': node 3 (activation 'stem.act'): unknown activation 'relu\\n\\x1b[2J'");
}

namespace {

// A minimal weight file: fc.bias [2], and the attribute lmask_graph written by `write`.
std::string file_with_graph_attribute(const TempDir& dir, const std::function<void(hid_t)>& write) {
  const std::string path = dir.file("w.h5");
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hsize_t two = 2;
  const hid_t space = H5Screate_simple(1, &two, nullptr);
  const hid_t d = H5Dcreate2(file, "fc.bias", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const float values[2] = {0.f, 1.f};
  REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
  H5Dclose(d);
  H5Sclose(space);
  write(file);
  REQUIRE(H5Fclose(file) >= 0);
  return path;
}

void string_attribute(hid_t file, const std::vector<const char*>& values) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hsize_t n = values.size();
  const hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  const hid_t attr = H5Acreate2(file, "lmask_graph", type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Awrite(attr, type, values.data()) >= 0);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

}  // namespace

TEST_CASE("graph json errors: load_weights refuses an lmask_graph attribute that is no description") {
  const TempDir dir("graph_json_attr");
  auto load_error = [](const std::string& path) { return error_of([&] { load_weights(path); }); };
  std::string path = file_with_graph_attribute(dir, [](hid_t f) {
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(f, "lmask_graph", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    const long long one = 1;
    H5Awrite(attr, H5T_NATIVE_LLONG, &one);
    H5Aclose(attr);
    H5Sclose(space);
  });
  CHECK(load_error(path) == path + ": attribute 'lmask_graph' is not a string");
  path = file_with_graph_attribute(dir, [](hid_t f) { string_attribute(f, {"{}", "{}"}); });
  CHECK(load_error(path) == path + ": attribute 'lmask_graph' holds 2 strings; expected one graph description");
  path = file_with_graph_attribute(dir, [](hid_t f) { string_attribute(f, {""}); });
  CHECK(load_error(path) == path + ": attribute 'lmask_graph' is empty; expected a graph description (or no attribute)");
  // A string loads as it is; it is read as a graph only by graph_from_description.
  path = file_with_graph_attribute(dir, [](hid_t f) { string_attribute(f, {"not json"}); });
  const Weights w = load_weights(path);
  CHECK(w.graph_json == "not json");
  CHECK(error_of([&] { graph_from_description(w); }).rfind(path + ": attribute 'lmask_graph': not valid JSON: ", 0) == 0);
}

TEST_CASE("graph json errors: text that would overflow a size or cost memory is refused before it does") {
  const Graph g = every_op_graph(random_tensors(900));
  const Weights w = weights_of(g);
  const std::string good = graph_to_json(g);
  // A key twice (nlohmann alone keeps the last one).
  std::string twice = good;
  twice.replace(twice.find("\"kernel\":3"), 10, "\"kernel\":3,\"kernel\":5");
  CHECK(read_error(twice, w) == "model.h5: field 'kernel' appears twice in one object");
  // Nesting far past the format's.
  CHECK(read_error(std::string(100000, '[') + std::string(100000, ']'), w) ==
        "model.h5: nests values deeper than 32 levels");
  // A long name is quoted in part.
  json doc = json::parse(good);
  node(doc, 1)["weight"] = std::string(10000, 'w');
  CHECK(read_error(doc.dump(), w) == "model.h5: node 1 (conv2d 'stem.conv'): weight '" + std::string(64, 'w') +
                                         "...' is not in the weight file");

  // A wide 1x1 conv (65536 channels), then a concat of 40,000 of it: more
  // channels than an int holds.
  CaseBuilder wide(3, random_tensors(1));
  wide.graph().output = wide.conv(0, "wide", 3, 1 << 16, 1, 1, 0);
  const Weights wide_weights = weights_of(wide.graph(), 4);
  doc = json::parse(graph_to_json(wide.graph()));
  doc["nodes"].push_back({{"op", "concat"}, {"name", "cat"}, {"inputs", std::vector<int>(40000, 1)}});
  doc["output"] = 2;
  CHECK(read_error(doc.dump(), wide_weights) ==
        "model.h5: graph node 2 (concat 'cat'): 2621440000 channels, more than a shape holds "
        "(at the weight file's input size 4)");
  // Its flatten at 4096 x 4096 holds 2^40 values.
  doc["nodes"][2] = {{"op", "flatten"}, {"name", "flat"}, {"inputs", {1}}};
  CHECK(read_error(doc.dump(), weights_of(wide.graph(), 4096)) ==
        "model.h5: graph node 2 (flatten 'flat'): 1099511627776 values per image, more than a shape holds "
        "(at the weight file's input size 4096)");
  // The conv's value itself at 256 x 256: 2^32 values.
  doc["nodes"].erase(2);
  doc["output"] = 1;
  CHECK(read_error(doc.dump(), weights_of(wide.graph(), 256)) ==
        "model.h5: graph node 1 (conv2d 'wide'): its value [1,65536,256,256] holds more than 1073741824 values per "
        "image (at the weight file's input size 256)");
}

TEST_CASE("graph json errors: a weight file's empty tensor is refused where a node would read it") {
  const Graph g = every_op_graph(random_tensors(1000));
  const std::string good = graph_to_json(g);
  auto with_empty = [&](const std::string& name, Shape shape, std::vector<std::size_t> dims) {
    Weights w = weights_of(g);
    w.params[name] = Tensor(shape);
    w.dims[name] = std::move(dims);
    return read_error(good, w);
  };
  CHECK(with_empty("stem.conv.weight", {0, 3, 3, 3}, {0, 3, 3, 3}) ==
        "model.h5: node 1 (conv2d 'stem.conv'): weight 'stem.conv.weight' has shape [0,3,3,3]; expected "
        "[O,I/groups,3,3] with at most 65536 channels");
  CHECK(with_empty("stem.bn.weight", {1, 0, 1, 1}, {0}) ==
        "model.h5: node 2 (batchnorm 'stem.bn'): weight 'stem.bn.weight' has shape [0]; expected [C], one per channel");
  CHECK(with_empty("head.fc.weight", {5, 0, 1, 1}, {5, 0}) ==
        "model.h5: node 24 (linear 'head.fc'): weight 'head.fc.weight' has shape [5,0]; expected "
        "[out_features,in_features]");
}
