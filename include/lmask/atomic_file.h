// atomic_file.h — writing result files so that they are either complete or absent.
//
// One file: the text goes to "<path>.tmp-<pid>" in the same directory (so the
// final rename stays on one file system and is atomic), is flushed and closed,
// and only then renamed over `path`. An interrupted run therefore never leaves
// a truncated CSV or JSON that looks like a result.
//
// A set of files that belong together (a study's CSV, PNG and JSON): every
// one is written to its temporary name first, and only when all are complete
// are they renamed into place; the last of the set is its marker (a study's
// JSON, which says the run finished), removed before the others move and
// moved last, so that it never stands beside a mixed or partial set. A set
// that fails to be written leaves no new file, and the previous set as it
// was. Not a database: two writers of one path race (callers that must not
// race hold a lock, as the studies do).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lmask {

// Throws InputError(path, problem) when the file cannot be written or moved
// into place; the temporary file is removed in that case.
void write_text_atomically(const std::string& path, const std::string& text);

// The two halves, for writers that produce their own bytes (PNG):
// the temporary name for `path`, and the last step once it is written and
// closed: `written` false removes it and throws InputError(path, problem),
// true renames it over `path` (removing it and throwing if that fails).
std::string temporary_path_for(const std::string& path);
void finish_temporary(const std::string& temp, const std::string& path, bool written,
                      const std::string& problem);

// Files that appear together or not at all (see the top).
class FileSet {
 public:
  FileSet() = default;
  ~FileSet();  // not committed: every temporary written is removed
  FileSet(const FileSet&) = delete;
  FileSet& operator=(const FileSet&) = delete;

  // `path`'s new contents, written by write(name) under a temporary name
  // (write_png, say). An InputError the writer throws about that name is
  // rethrown about `path`; the set is then not to be committed.
  void add(const std::string& path, const std::function<void(const std::string& name)>& write);
  void add_text(const std::string& path, const std::string& text);
  // The old marker (the file added last) removed, then every file moved
  // into place in the order added. InputError(path, ...) when one cannot be.
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // temporary, path
};

}  // namespace lmask
