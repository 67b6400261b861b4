#include "quay/net/prometheus.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace quay::net::prometheus {

namespace {

bool name_char(char c, bool first, bool colon) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view n, bool colon) noexcept {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i)
    if (!name_char(n[i], i == 0, colon)) return false;
  return true;
}

// Help text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

const char* type_name(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept { return valid_name(name, true); }

bool valid_label_name(std::string_view name) noexcept {
  return valid_name(name, false) && !name.starts_with("__");
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    // Shortest round-trip form: integers print as integers (up to 2^53 exactly), fractions
    // as short decimals; both are what Go's ParseFloat and Python's float() read back.
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

bool writer::family(std::string_view name, metric_type type, std::string_view help) {
  if (!valid_metric_name(name)) return false;
  if (type == metric_type::counter && !name.ends_with("_total")) return false;
  if (std::find(declared_.begin(), declared_.end(), name) != declared_.end()) return false;
  declared_.emplace_back(name);
  current_type_ = type;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
  return true;
}

bool writer::series_ok(std::string_view name, metric_type type, labels l) const {
  if (declared_.empty() || declared_.back() != name || current_type_ != type) return false;
  for (auto it = l.begin(); it != l.end(); ++it) {
    if (!valid_label_name(it->name)) return false;
    if (type == metric_type::histogram && it->name == "le") return false;
    for (auto jt = l.begin(); jt != it; ++jt)
      if (jt->name == it->name) return false;  // a label repeated in one series
  }
  return true;
}

void writer::write_series(std::string_view name, std::string_view suffix, labels l, const label* extra) {
  out_ += name;
  out_ += suffix;
  if (l.size() != 0 || extra != nullptr) {
    out_ += '{';
    bool first = true;
    auto one = [&](const label& x) {
      if (!first) out_ += ',';
      first = false;
      out_ += x.name;
      out_ += "=\"";
      append_escaped(out_, x.value, true);
      out_ += '"';
    };
    for (const label& x : l) one(x);
    if (extra != nullptr) one(*extra);
    out_ += '}';
  }
  out_ += ' ';
}

bool writer::sample(std::string_view name, labels l, double value) {
  const metric_type type = current_type_ == metric_type::counter ? metric_type::counter : metric_type::gauge;
  if (!series_ok(name, type, l)) return false;
  if (type == metric_type::counter && !(value >= 0)) return false;  // counters never go down
  write_series(name, "", l, nullptr);
  append_value(out_, value);
  out_ += '\n';
  return true;
}

bool writer::histogram(std::string_view name, labels l, std::span<const double> upper_bounds,
                       std::span<const std::uint64_t> bucket_counts, std::uint64_t overflow, double sum) {
  if (!series_ok(name, metric_type::histogram, l) || upper_bounds.size() != bucket_counts.size()) return false;
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (std::isnan(upper_bounds[i]) || std::isinf(upper_bounds[i])) return false;
    if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1])) return false;
  }
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    cumulative += bucket_counts[i];
    le.clear();
    append_value(le, upper_bounds[i]);
    const label bound{"le", le};
    write_series(name, "_bucket", l, &bound);
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  cumulative += overflow;
  const label inf{"le", "+Inf"};
  write_series(name, "_bucket", l, &inf);
  out_ += std::to_string(cumulative);
  out_ += '\n';
  write_series(name, "_sum", l, nullptr);
  append_value(out_, sum);
  out_ += '\n';
  write_series(name, "_count", l, nullptr);
  out_ += std::to_string(cumulative);
  out_ += '\n';
  return true;
}

}  // namespace quay::net::prometheus
