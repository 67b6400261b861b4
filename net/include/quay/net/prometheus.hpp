#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quay::net::prometheus {

/// The Content-Type of the text exposition format this writer produces.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// One label of a sample. The value may hold any UTF-8 text: it is escaped when written.
struct label {
  std::string_view name;
  std::string_view value;
};

using labels = std::initializer_list<label>;

/// The metric types the writer knows.
enum class metric_type : std::uint8_t { counter, gauge, histogram };

/// Builds one scrape's body in the Prometheus text exposition format (version 0.0.4).
///
/// A pure core: the caller reads its figures and writes them here; no registry, no clock.
/// Each family is declared once (`# HELP` and `# TYPE`), then its samples follow. Names are
/// checked ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for labels, no
/// leading `__`), label values and help text escaped (`\\`, `\"`, `\n`), and values written as
/// the shortest text that reads back exactly (`+Inf`, `-Inf`, `NaN`). A call that would write
/// an invalid exposition returns false and writes nothing: a family declared twice, a counter
/// not named `*_total`, a sample that is not of the family declared last (the format keeps a
/// family's lines together) or not of its type, a histogram's
/// `le` label given by the caller, bucket bounds not strictly increasing.
///
/// Thread contract: owner only (one scrape at a time builds its own writer).
class writer {
 public:
  /// Declares a family; `help` may be empty.
  bool family(std::string_view name, metric_type type, std::string_view help);
  /// One sample of a counter or gauge family declared before (`name` is the family's name).
  bool sample(std::string_view name, labels l, double value);
  /// One histogram series of the family `name`: `bucket_counts[i]` observations fell at or
  /// under `upper_bounds[i]` and over the bound before (not cumulative), `overflow` over the
  /// last bound; written as cumulative `_bucket` lines with `le`, then `+Inf`, `_sum` and
  /// `_count`.
  bool histogram(std::string_view name, labels l, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> bucket_counts, std::uint64_t overflow, double sum);

  /// The exposition so far.
  const std::string& text() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

 private:
  bool series_ok(std::string_view name, metric_type type, labels l) const;
  void write_series(std::string_view name, std::string_view suffix, labels l, const label* extra);

  std::string out_;
  std::vector<std::string> declared_;  // every family declared so far
  metric_type current_type_ = metric_type::gauge;  // the type of declared_.back()
};

/// True for a valid metric name. Thread-safe (pure).
bool valid_metric_name(std::string_view name) noexcept;
/// True for a valid label name (and not reserved: no leading `__`). Thread-safe (pure).
bool valid_label_name(std::string_view name) noexcept;
/// Appends `v` as the exposition writes a sample value. Thread-safe (pure).
void append_value(std::string& out, double v);

}  // namespace quay::net::prometheus
