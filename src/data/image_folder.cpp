// image_folder.cpp — ImageNet-style trees, root/<class>/<image>, with classes
// and images ordered as torchvision's ImageFolder orders them (sorted by name,
// byte order), so class indices match a model trained through ImageFolder.
// Only PNG and JPEG are decoded; other files are ignored.
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "lmask/error.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "sources.h"

namespace lmask::data {

namespace {

namespace fs = std::filesystem;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// What `path` is, following symlinks. A path that does not exist (a
// dangling symlink among the entries) is `not_found`, to be skipped like any
// other non-image; a status that cannot be told (a symlink loop, no
// permission) is an InputError naming the path, not a filesystem_error.
fs::file_type type_of(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && status.type() != fs::file_type::not_found)
    throw InputError(path.string(), "cannot tell what it is (" + ec.message() + ")");
  return status.type();
}

void require_directory(const std::string& path) {
  if (type_of(path) != fs::file_type::directory) throw InputError(path, "not a directory");
}

// Sorted names of the entries of `dir` whose path passes `keep`.
template <class Keep>
std::vector<std::string> sorted_entries(const fs::path& dir, Keep keep) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw InputError(dir.string(), "cannot list directory (" + ec.message() + ")");
  std::vector<std::string> names;
  for (; it != end; it.increment(ec)) {
    if (ec) throw InputError(dir.string(), "cannot list directory (" + ec.message() + ")");
    if (keep(it->path())) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ImageFolder final : public Dataset {
 public:
  ImageFolder(const std::string& root, const std::string& mask_root, const Weights& meta)
      : root_(root), mask_root_(mask_root), resize_(meta.resize_size), crop_(meta.input_size) {
    require_directory(root);
    if (!mask_root.empty()) require_directory(mask_root);
    classes_ = sorted_entries(root, [](const fs::path& p) { return type_of(p) == fs::file_type::directory; });
    for (std::size_t c = 0; c < classes_.size(); ++c)
      for (const std::string& file : sorted_entries(fs::path(root) / classes_[c], [](const fs::path& p) {
             return is_image_file(p) && type_of(p) == fs::file_type::regular;
           }))
        items_.push_back({classes_[c] + "/" + file, static_cast<int>(c)});
    if (items_.empty())
      throw InputError(root, "no PNG or JPEG images in root/<class>/ subdirectories");
  }

  std::size_t size() const override { return items_.size(); }
  const std::vector<std::string>& class_names() const override { return classes_; }
  std::string description() const override { return "folder:" + root_; }

  Sample get(std::size_t index) const override {
    const Item& item = items_[index];
    const std::string path = (fs::path(root_) / item.relative).string();
    const ImageU8 raw = read_image(path);
    Sample s;
    s.image01 = preprocess_01(raw, resize_, crop_, path);
    s.label = item.label;
    s.name = path;
    if (!mask_root_.empty()) {
      const std::string mask_path =
          (fs::path(mask_root_) / fs::path(item.relative).replace_extension(".png")).string();
      s.object = mask_from_png(mask_path, raw.width, raw.height, resize_, crop_, /*invert=*/false);
    }
    return s;
  }

 private:
  struct Item {
    std::string relative;  // "<class>/<file>"
    int label;
  };
  std::string root_, mask_root_;
  int resize_, crop_;
  std::vector<std::string> classes_;
  std::vector<Item> items_;
};

}  // namespace

std::unique_ptr<Dataset> open_image_folder(const std::string& root, const std::string& mask_root,
                                           const Weights& meta) {
  return std::make_unique<ImageFolder>(root, mask_root, meta);
}

}  // namespace lmask::data
