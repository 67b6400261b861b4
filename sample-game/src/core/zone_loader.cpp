// Zone files: TOML parsing with every problem collected as a zone_error (see zone_definition.hpp
// and sample-game/README.md for the file format).
#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <toml++/toml.h>

#include "quay/game/zone_definition.hpp"

namespace quay::game {

namespace {

// Reads typed fields out of TOML tables, recording an error for each missing, mistyped,
// out-of-range or unknown key instead of stopping at the first.
class reader {
public:
  reader(std::string_view source, std::vector<zone_error>& errors)
      : source_(source), errors_(errors) {}

  void error(const std::string& path, std::string message) {
    errors_.push_back({source_ + ": " + path, std::move(message)});
  }

  static std::string join(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  }

  void only_keys(const toml::table& t, const std::string& prefix,
                 std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, node] : t) {
      bool known = false;
      for (const auto a : allowed) {
        known = known || key.str() == a;
      }
      if (!known) {
        error(join(prefix, key.str()), "unknown key");
      }
    }
  }

  std::optional<double> number(const toml::table& t, const std::string& prefix,
                               std::string_view key, double lo, double hi,
                               std::optional<double> fallback = std::nullopt) {
    const auto node = t[key];
    const std::string path = join(prefix, key);
    if (!node) {
      if (!fallback) {
        error(path, "missing");
      }
      return fallback;
    }
    if (!node.is_number()) {
      error(path, "must be a number");
      return std::nullopt;
    }
    const double v = *node.value<double>();
    if (!(v >= lo && v <= hi)) {
      std::ostringstream m;
      m << "must be between " << lo << " and " << hi << " (is " << v << ")";
      error(path, m.str());
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::int64_t> integer(const toml::table& t, const std::string& prefix,
                                      std::string_view key, std::int64_t lo, std::int64_t hi,
                                      std::optional<std::int64_t> fallback = std::nullopt) {
    const auto node = t[key];
    const std::string path = join(prefix, key);
    if (!node) {
      if (!fallback) {
        error(path, "missing");
      }
      return fallback;
    }
    if (!node.is_integer()) {
      error(path, "must be an integer");
      return std::nullopt;
    }
    const std::int64_t v = *node.value<std::int64_t>();
    if (v < lo || v > hi) {
      error(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                      " (is " + std::to_string(v) + ")");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> text(const toml::table& t, const std::string& prefix,
                                   std::string_view key,
                                   std::optional<std::string> fallback = std::nullopt) {
    const auto node = t[key];
    const std::string path = join(prefix, key);
    if (!node) {
      if (!fallback) {
        error(path, "missing");
      }
      return fallback;
    }
    if (!node.is_string() || node.value<std::string>()->empty()) {
      error(path, "must be a non-empty string");
      return std::nullopt;
    }
    return *node.value<std::string>();
  }

  // Calls f(table, path) for each table of the array `key`; absent means none.
  template <typename F>
  void each_table(const toml::table& t, std::string_view key, F&& f) {
    const auto node = t[key];
    if (!node) {
      return;
    }
    const toml::array* arr = node.as_array();
    if (arr == nullptr) {
      error(std::string(key), "must be an array of tables ([[" + std::string(key) + "]])");
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      const toml::table* item = (*arr)[i].as_table();
      if (item == nullptr) {
        error(path, "must be a table");
        continue;
      }
      f(*item, path);
    }
  }

private:
  std::string source_;
  std::vector<zone_error>& errors_;
};

constexpr double max_zone_side = 100000.0;

void read_npc_type(reader& r, const toml::table& t, const std::string& path, npc_type& out) {
  r.only_keys(t, path, {"name", "level", "hp", "damage_min", "damage_max", "attack_range",
                        "cooldown_ms", "respawn_ms", "aggro_radius", "leash_radius",
                        "wander_radius", "speed", "xp_bonus"});
  out.display_name = r.text(t, path, "name").value_or("");
  out.level = static_cast<std::int32_t>(r.integer(t, path, "level", 1, max_level, 1).value_or(1));
  out.combat.max_hp = static_cast<std::int32_t>(r.integer(t, path, "hp", 1, 1000000).value_or(1));
  const auto dmin = r.integer(t, path, "damage_min", 0, 100000, 1);
  const auto dmax = r.integer(t, path, "damage_max", 0, 100000, dmin.value_or(1));
  if (dmin && dmax && *dmax < *dmin) {
    r.error(reader::join(path, "damage_max"), "must not be below damage_min");
  }
  out.combat.damage_min = static_cast<std::int32_t>(dmin.value_or(1));
  out.combat.damage_max = static_cast<std::int32_t>(dmax.value_or(1));
  const float range = static_cast<float>(r.number(t, path, "attack_range", 0.1, 100.0, 2.5).value_or(2.5));
  out.combat.attack_range = range;
  out.combat.cooldown_ms = r.integer(t, path, "cooldown_ms", 100, 600000, 2000).value_or(2000);
  out.combat.respawn_delay_ms = r.integer(t, path, "respawn_ms", 0, 86400000, 10000).value_or(10000);
  out.xp_reward_bonus = r.integer(t, path, "xp_bonus", 0, 1000000, 0).value_or(0);
  auto& b = out.behaviour;
  b.aggro_radius = static_cast<float>(r.number(t, path, "aggro_radius", 0.0, 1000.0, 10.0).value_or(10.0));
  b.leash_radius = static_cast<float>(r.number(t, path, "leash_radius", 1.0, 10000.0, 30.0).value_or(30.0));
  b.wander_radius = static_cast<float>(r.number(t, path, "wander_radius", 0.0, 1000.0, 8.0).value_or(8.0));
  b.speed = static_cast<float>(r.number(t, path, "speed", 0.1, 100.0, 4.0).value_or(4.0));
  b.return_speed = b.speed * 2.0f;
  b.attack_range = range;
  if (b.aggro_radius > b.leash_radius) {
    r.error(reader::join(path, "aggro_radius"), "must not exceed leash_radius");
  }
}

}  // namespace

const spawn_point* zone_definition::find_spawn(std::string_view spawn_name) const {
  for (const auto& s : spawns) {
    if (s.name == spawn_name) {
      return &s;
    }
  }
  return nullptr;
}

zone_load_result parse_zone(std::string_view toml_text, std::string_view source) {
  zone_load_result result;
  reader r(source, result.errors);
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    r.error("line " + std::to_string(where.line) + " column " + std::to_string(where.column),
            std::string(e.description()));
    return result;
  }

  zone_definition z;
  r.only_keys(root, "", {"id", "name", "width", "height", "cell_size", "default_spawn",
                         "spawn", "npc_types", "npc", "portal"});
  z.id = static_cast<std::uint32_t>(r.integer(root, "", "id", 1, 65535).value_or(0));
  z.name = r.text(root, "", "name").value_or("");
  z.bounds.width = static_cast<float>(r.number(root, "", "width", 10.0, max_zone_side).value_or(10.0));
  z.bounds.height = static_cast<float>(r.number(root, "", "height", 10.0, max_zone_side).value_or(10.0));
  z.cell_size = static_cast<float>(r.number(root, "", "cell_size", 5.0, 1000.0, 50.0).value_or(50.0));
  z.default_spawn = r.text(root, "", "default_spawn", std::string()).value_or("");

  const auto inside = [&](const std::string& path, vec2 p) {
    if (!z.bounds.contains(p)) {
      r.error(path, "position (" + std::to_string(p.x) + ", " + std::to_string(p.y) +
                        ") is outside the zone");
    }
  };
  const auto read_pos = [&](const toml::table& t, const std::string& path) {
    vec2 p;
    p.x = static_cast<float>(r.number(t, path, "x", -max_zone_side, max_zone_side).value_or(0.0));
    p.y = static_cast<float>(r.number(t, path, "y", -max_zone_side, max_zone_side).value_or(0.0));
    return p;
  };

  r.each_table(root, "spawn", [&](const toml::table& t, const std::string& path) {
    r.only_keys(t, path, {"name", "x", "y", "radius"});
    spawn_point s{r.text(t, path, "name").value_or(""), read_pos(t, path)};
    s.radius = static_cast<float>(r.number(t, path, "radius", 0.0, max_zone_side, 0.0).value_or(0.0));
    inside(path, s.pos);
    if (z.find_spawn(s.name) != nullptr) {
      r.error(path + ".name", "duplicate spawn point '" + s.name + "'");
    }
    z.spawns.push_back(std::move(s));
  });
  if (z.spawns.empty()) {
    r.error("spawn", "a zone needs at least one [[spawn]] point");
  } else if (!z.default_spawn.empty() && z.find_spawn(z.default_spawn) == nullptr) {
    r.error("default_spawn", "no spawn point named '" + z.default_spawn + "'");
  }

  if (const auto node = root["npc_types"]) {
    if (const toml::table* types = node.as_table()) {
      for (const auto& [key, value] : *types) {
        const std::string path = "npc_types." + std::string(key.str());
        const toml::table* t = value.as_table();
        if (t == nullptr) {
          r.error(path, "must be a table");
          continue;
        }
        npc_type type;
        type.key = std::string(key.str());
        read_npc_type(r, *t, path, type);
        z.npc_types.emplace(type.key, std::move(type));
      }
    } else {
      r.error("npc_types", "must be a table of NPC types");
    }
  }

  r.each_table(root, "npc", [&](const toml::table& t, const std::string& path) {
    r.only_keys(t, path, {"type", "x", "y", "count", "spread"});
    npc_spawn n;
    n.type = r.text(t, path, "type").value_or("");
    n.pos = read_pos(t, path);
    inside(path, n.pos);
    n.count = static_cast<std::int32_t>(r.integer(t, path, "count", 1, 10000, 1).value_or(1));
    n.spread = static_cast<float>(r.number(t, path, "spread", 0.0, 1000.0, 0.0).value_or(0.0));
    if (!n.type.empty() && !z.npc_types.contains(n.type)) {
      r.error(path + ".type", "no npc_types entry named '" + n.type + "'");
    }
    z.npcs.push_back(std::move(n));
  });

  r.each_table(root, "portal", [&](const toml::table& t, const std::string& path) {
    r.only_keys(t, path, {"name", "x", "y", "radius", "target_zone", "target_spawn"});
    portal p;
    p.name = r.text(t, path, "name", path).value_or(path);
    p.pos = read_pos(t, path);
    inside(path, p.pos);
    p.radius = static_cast<float>(r.number(t, path, "radius", 0.5, 100.0, 3.0).value_or(3.0));
    p.target_zone = static_cast<std::uint32_t>(r.integer(t, path, "target_zone", 1, 65535).value_or(0));
    p.target_spawn = r.text(t, path, "target_spawn").value_or("");
    z.portals.push_back(std::move(p));
  });

  if (result.errors.empty()) {
    if (z.default_spawn.empty()) {
      z.default_spawn = z.spawns.front().name;
    }
    result.zone = std::move(z);
  }
  return result;
}

zone_load_result load_zone_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    zone_load_result result;
    result.errors.push_back({file.string(), "cannot be read"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_zone(text.str(), file.filename().string());
}

world_load_result load_zone_directory(const std::filesystem::path& dir) {
  world_load_result result;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    result.errors.push_back({dir.string(), "cannot be listed: " + ec.message()});
    return result;
  }
  if (files.empty()) {
    result.errors.push_back({dir.string(), "holds no *.toml zone file"});
    return result;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto one = load_zone_file(f);
    result.errors.insert(result.errors.end(), one.errors.begin(), one.errors.end());
    if (one.zone) {
      result.zones.push_back(std::move(*one.zone));
    }
  }
  if (result.errors.empty()) {
    result.errors = validate_world(result.zones);
  }
  return result;
}

std::vector<zone_error> validate_world(const std::vector<zone_definition>& zones) {
  std::vector<zone_error> errors;
  const auto find = [&](std::uint32_t id) -> const zone_definition* {
    for (const auto& z : zones) {
      if (z.id == id) {
        return &z;
      }
    }
    return nullptr;
  };
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const auto& z = zones[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (zones[j].id == z.id) {
        errors.push_back({z.name, "zone id " + std::to_string(z.id) + " is also used by '" +
                                      zones[j].name + "'"});
      }
    }
    for (std::size_t k = 0; k < z.portals.size(); ++k) {
      const auto& p = z.portals[k];
      const std::string where = z.name + ": portal[" + std::to_string(k) + "]";
      const zone_definition* target = find(p.target_zone);
      if (target == nullptr) {
        errors.push_back({where, "leads to unknown zone " + std::to_string(p.target_zone)});
      } else if (target->find_spawn(p.target_spawn) == nullptr) {
        errors.push_back({where, "leads to unknown spawn point '" + p.target_spawn +
                                     "' of zone '" + target->name + "'"});
      }
    }
  }
  return errors;
}

}  // namespace quay::game
