// atomic_file.h — writing a result file so that it is either complete or absent.
//
// The text goes to "<path>.tmp-<pid>" in the same directory (so the final
// rename stays on one file system and is atomic), is flushed and closed, and
// only then renamed over `path`. An interrupted run therefore never leaves a
// truncated CSV or JSON that looks like a result. Not a database: concurrent
// writers of the same path simply race, the last rename wins.
#pragma once

#include <string>

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

}  // namespace lmask
