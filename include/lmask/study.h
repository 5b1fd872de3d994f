// study.h — the studies of shared/spec/EXPERIMENTS.md that compare masking
// methods over a dataset: S1 removal, S2 mask-shape leakage, S3 LIME with each
// masking method, S4 linearity. (The LIME algebra itself lives in lime.h and
// lime_model.h.) Not a general experiment framework: each study is one
// function returning counts, plus its CSV text and its picture.
//
// Paired design: one seed fixes every image's random patch order,
// random_order(patch_count, seed + image index), and in S3 its LIME
// perturbation matrix (seed + image index too), shared by all methods and
// settings, so differences between methods are paired and a rerun with the
// same seed and batch size reproduces every number (and byte of the CSV).
// Images are evaluated in batches with a different mask per image.
// The library never prints: progress goes through StudyProgress.
//
// Resumable: given a StudyCheckpoint, a study saves its counts and sums
// after every finished batch (LIME: every image) and starts from the last
// saved state, once it is checked (every count against the others, every
// sum finite); since batches are the same and sums continue bit for bit, an
// interrupted and resumed run writes the same CSV as an uninterrupted one.
//
// Shardable: StudySettings::shard picks one of n contiguous ranges of the
// images (whole batches each, so that every image keeps its batch, seed and
// numbers). Results are counts and exact sums (lmask/exact_sum.h), so the
// shards' results, added up in any order, are the single-process run's bit
// for bit: `lmask study --shard i/n` plus `lmask merge`, or `mpirun`, write
// the very CSV a single process writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lmask/dataset.h"
#include "lmask/exact_sum.h"
#include "lmask/image.h"
#include "lmask/mask.h"
#include "lmask/model.h"
#include "lmask/segmentation.h"

namespace lmask {

// ---- settings shared by the studies

// 16 px patches at 224 px, scaled to the model: max(1, round(16 * input_size / 224)).
int default_patch_size(int input_size);
std::vector<double> default_removal_fractions();  // 0, 0.1, ..., 1.0
std::vector<std::string> default_study_methods();  // black, grey, grey-smooth, blur, layer, layer-renorm

// Part `index` of `count` of a run's images (0 <= index < count).
struct StudyShard {
  int index = 0, count = 1;
};
// "3/8" -> {3, 8}; InputError unless 0 <= i < n.
StudyShard parse_shard(const std::string& text);

struct StudySettings {
  std::vector<std::string> methods = default_study_methods();
  std::size_t limit = 100;  // the first `limit` images of the dataset; 0: all
  std::uint64_t seed = 0;   // image i gets patch order seed + i
  int batch = 32;           // images per forward
  int patch = 0;            // patch size in pixels; 0: default_patch_size
  std::vector<double> fractions = default_removal_fractions();  // S1 only, increasing, in [0,1]
  std::string segmentation = "grid";  // S3 only: "grid" (patch x patch) or "slic"
  int samples = 512;                  // S3 only: LIME perturbations per image, row 0 the intact image
  BadFilePolicy on_bad_file = BadFilePolicy::stop;  // an unreadable image mid-run: stop, or skip and count it
  StudyShard shard;  // which part of the images this process studies: not a setting of the run's numbers
};

// "black,grey,colour:0,0,255,layer" -> {black, grey, colour:0,0,255, layer}:
// a colour method keeps the three numbers that follow it.
std::vector<std::string> parse_method_list(const std::string& list);

// Told how many masked forwards (one image each) a study will do, and when
// they are done; the CLI draws its progress bar with it.
class StudyProgress {
 public:
  virtual ~StudyProgress() = default;
  virtual void begin(const std::string& what, std::size_t total) = 0;
  virtual void advance(std::size_t done_now) = 0;
  virtual void end() = 0;
  // An image left out under BadFilePolicy::skip, with the problem's one line.
  virtual void skipped(const std::string& /*problem*/) {}
};

// Where a study keeps its partial result between runs (see the top).
class StudyCheckpoint {
 public:
  virtual ~StudyCheckpoint() = default;
  virtual std::string load() = 0;                   // the last state saved; "" to start afresh
  virtual void save(const std::string& state) = 0;  // after each finished batch
  virtual std::string name() const = 0;             // what errors about a damaged state name
};

// Wall-clock seconds, for the JSON only (never in the CSV, which must be reproducible).
struct StudyTimings {
  double total = 0, clean = 0;                           // clean: the unmasked forwards
  std::vector<std::pair<std::string, double>> methods;   // per method, in settings order
};

// What every study reports about its run.
struct StudyCommon {
  std::size_t images = 0;         // images evaluated
  std::size_t skipped = 0;        // images left out as unreadable (BadFilePolicy::skip)
  std::size_t clean_correct = 0;  // top-1 hits of the unmasked model
  int patch = 0, patches = 0;     // patch size in pixels, patches per image
  int classes = 0;                // the model's classes
  StudyTimings timings;
};

// ---- S1 removal: the first round(f * patches) patches of each image's order removed

struct RemovalRow {
  std::string method;
  double fraction = 0;
  int removed_patches = 0;                              // per image
  std::size_t images = 0, correct = 0, unchanged = 0;   // unchanged: same top-1 as the clean model
  ExactSum kl_sum;  // sum over images of KL(clean softmax || masked softmax), in nats
};
struct RemovalResult {
  StudyCommon common;
  std::vector<RemovalRow> rows;  // method-major, fractions in settings order
};
RemovalResult run_removal(const Model& model, const Dataset& data, const StudySettings& s,
                          StudyProgress* progress = nullptr, StudyCheckpoint* checkpoint = nullptr);
std::string removal_csv(const RemovalResult& r);
ImageU8 removal_chart(const RemovalResult& r, const std::string& dataset);

// ---- S2 leakage: accuracy with the object removed, and two controls

// "object": the image with its object mask removed; "rolled": the image with
// the object mask rolled by half the image in both axes removed; "mask-alone":
// an all-background image (zeros in [0,1], Fashion-MNIST's background) with
// the object mask removed, so only the hole's shape is left to read.
std::vector<std::string> leakage_conditions();

// m rolled cyclically, like numpy.roll: out(y, x) = m((y - dy) mod H, (x - dx) mod W),
// every image of the batch alike.
Mask roll_mask(const Mask& m, int dy, int dx);

struct LeakageRow {
  std::string method, condition;
  std::size_t images = 0, correct = 0;
};
struct LeakageResult {
  StudyCommon common;
  std::vector<LeakageRow> rows;  // method-major, conditions in leakage_conditions() order
};
// Throws InputError when the dataset has no object masks.
LeakageResult run_leakage(const Model& model, const Dataset& data, const StudySettings& s,
                          StudyProgress* progress = nullptr, StudyCheckpoint* checkpoint = nullptr);
std::string leakage_csv(const LeakageResult& r);
ImageU8 leakage_chart(const LeakageResult& r, const std::string& dataset);

// ---- S4 linearity: features of single patches against all four together

constexpr int kLinearityPatches = 4;  // the first 4 ids of each image's patch order

struct LinearityRow {
  std::string method;
  std::size_t images = 0;
  // Images whose all-four features are the zero vector: their relative
  // distance is undefined, so they are counted here and left out of the sums.
  std::size_t zero_feature_images = 0;
  ExactSum cosine_sum;  // cos(sum_i f_i, f_all)
  ExactSum rel_l2_sum;  // |sum_i f_i - f_all| / |f_all|
};
struct LinearityResult {
  StudyCommon common;
  std::vector<LinearityRow> rows;  // one per method
};
// Throws InputError when the image has fewer than 4 patches.
LinearityResult run_linearity(const Model& model, const Dataset& data, const StudySettings& s,
                              StudyProgress* progress = nullptr, StudyCheckpoint* checkpoint = nullptr);
std::string linearity_csv(const LinearityResult& r);
ImageU8 linearity_chart(const LinearityResult& r, const std::string& dataset);

// ---- S3 lime: each method's LIME explanation, judged by top-k ablation and object overlap

// Per image: one segmentation and one perturbation matrix
// perturbation_matrix(samples, segments, 0.5, seed + image index), shared by
// every method; each method carries out every perturbation (batched) and
// LIME explains the softmax probability of the clean model's top-1 class.
// Each method's ranking is then judged with one yardstick, layer masking:
// the image with its k top-ranked segments removed, for every k of
// lime_ablation_ks(); k = 0 removes nothing.
std::vector<int> lime_ablation_ks();                // 0, 1, 2, 4, 8
std::vector<std::string> default_lime_methods();    // default_study_methods() and segment-mean

struct LimeRow {
  std::string method;  // whose LIME ranking chose the segments removed
  int k = 0;           // top-ranked segments removed (fewer when an image has fewer)
  std::size_t images = 0, correct = 0, unchanged = 0;  // unchanged: same top-1 as the clean model
  ExactSum prob_sum;  // sum over images of the clean top-1 class's softmax after the removal
  // Over the images with a non-empty object mask: Jaccard(union of the top-k
  // segments, object mask). 0 when the dataset has no object masks.
  std::size_t object_images = 0;
  ExactSum jaccard_sum;
};
// The first few images, to draw: the image and every method's explanation of it.
struct LimeExample {
  std::size_t index = 0;  // in the dataset
  std::string name;
  int label = 0, predicted = 0;
  Tensor image01;    // [1,3,H,W]
  Segmentation segments;
  std::vector<std::vector<double>> coefficients;  // [method][segment]
};
struct LimeResult {
  StudyCommon common;  // common.patches: the grid's segment count
  std::vector<std::string> methods;
  std::string segmentation;  // grid or slic
  int samples = 0;
  int segments_min = 0, segments_max = 0;  // per image (they vary with SLIC)
  std::size_t segments_sum = 0;
  double ablation_seconds = 0;  // the top-k yardstick's forwards
  std::vector<LimeRow> rows;    // method-major, k in lime_ablation_ks() order
  std::vector<LimeExample> examples;
  // Perturbations carried out (masked forwards) per method: images * samples.
  std::size_t perturbations_per_method() const { return common.images * std::size_t(samples); }
};
constexpr int kLimeExampleImages = 4;
// Throws InputError for an unknown segmentation, samples < 2 or a model
// whose image has one segment only.
LimeResult run_lime(const Model& model, const Dataset& data, const StudySettings& s,
                    StudyProgress* progress = nullptr, StudyCheckpoint* checkpoint = nullptr);
std::string lime_csv(const LimeResult& r);
// Rows: the example images; columns: the image, then each method's heat map.
ImageU8 lime_picture(const LimeResult& r, const std::string& dataset);

// ---- a whole run, as `lmask study` does it

std::vector<std::string> study_names();  // removal, leakage, lime, linearity
// The methods a study compares when none are named: default_lime_methods()
// for lime, default_study_methods() for the others.
std::vector<std::string> default_methods_for(const std::string& study);

struct StudyRun {
  std::string study;    // one of study_names()
  std::string weights;  // HDF5 weights
  std::string dataset;  // a dataset spec (dataset.h)
  std::string out_dir;  // created if missing
  StudySettings settings;
  // Continue from <out_dir>/.<study>.partial when it was written by a run
  // of the same settings, weights and dataset (else InputError); without
  // it a run starts afresh. The partial file is removed when the run ends.
  bool resume = false;
};
// <out_dir>/.<study>.partial (.<study>.shard-<i>-of-<n>.partial for shard i
// of n > 1): a study's state after its last finished batch.
std::string partial_path(const StudyRun& run);
struct StudyOutputs {
  std::string csv, json, png;  // the paths written
  std::string report;          // <out_dir>/index.html, regenerated (report.h)
};
// Checks the study name, methods and output directory before loading
// anything (a bad one is one InputError line), locks the result set
// (<out_dir>/.<study>.lock: a second process writing it is refused), runs
// the study (saving its partial state after every batch) and writes
// <out_dir>/<study>.csv, .png and .json, all three or none (the old JSON
// removed, then each moved into place from a temporary name, the JSON
// last); then rewrites <out_dir>/index.html to show every study found there. settings.shard must be 0 of 1 (the whole
// run): a shard's result is run_study_shard's file.
StudyOutputs run_study(const StudyRun& run, StudyProgress* progress = nullptr);

// ---- a run in shards (settings.shard), added up by merge_study_shards

// <out_dir>/<study>.shard-<i>-of-<n>: one shard's counts and sums, written
// atomically when the shard is done (its checkpoint meanwhile is
// partial_path(run)).
std::string shard_path(const StudyRun& run);
// Runs the images of run.settings.shard and writes shard_path(run), holding
// <out_dir>/.<study>.shard-<i>-of-<n>.lock meanwhile. With
// run.resume, a shard file of the same run already there is the result
// (nothing is computed) and a partial one is continued. Returns the path.
std::string run_study_shard(const StudyRun& run, StudyProgress* progress = nullptr);

struct ShardText {
  std::string name;  // where it came from, for errors: a path, or "rank 3"
  std::string text;  // the shard file's contents
};
// Checks that the shards are of one run (the same study, settings, weights
// and dataset; every shard i of n exactly once), adds them up and writes
// the same <out_dir>/<study>.csv, .png, .json and index.html as
// run_study. Loads the weights and dataset the shards name (for the JSON,
// and the images of lime's picture), and checks they are unchanged.
StudyOutputs merge_study_shards(const std::vector<ShardText>& shards, const std::string& out_dir);
// Every <study>.shard-* file in `dirs`, merged study by study into out_dir
// (InputError when there is none).
std::vector<StudyOutputs> merge_shard_dirs(const std::vector<std::string>& dirs, const std::string& out_dir);

// ---- the checks on a study's own files, on their own (the fuzz target's entry)

// What merge checks in one shard file before adding it up: its format and
// checksum, its settings, every count against the others and the images
// it counts against those its part of the run has in `data` (of which
// only the size is read); `model` is taken for the model the shard names.
// InputError(shard.name, ...) for anything else.
void check_shard_file(const ShardText& shard, const Model& model, const Dataset& data);
// What --resume checks in a checkpoint's state (the lines between its
// identity and its checksum) of `study` with settings s: the resume
// position against the counts, every count against the others. Returns
// the image it resumes at; InputError(where, ...) for anything else.
std::size_t check_checkpoint_state(const std::string& study, const StudySettings& s, const Model& model,
                                   const Dataset& data, const std::string& state, const std::string& where);

}  // namespace lmask
